resource "alicloud_image" "x" {
  count       = -1 # ERROR: Invalid count argument
  snapshot_id = "s-abc123"
}
