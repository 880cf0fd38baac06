resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
}
removed { # ERROR: Removed resource still in the configuration
  from = alicloud_image.x
}
