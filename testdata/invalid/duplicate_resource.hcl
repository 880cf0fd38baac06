resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
}
resource "alicloud_image" "x" { # ERROR: Duplicate resource configuration
  snapshot_id = "s-abc123"
}
