resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  instance_id = "i-abc123" # ERROR: Ambiguous image source
}
