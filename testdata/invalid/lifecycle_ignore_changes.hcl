resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  lifecycle {
    ignore_changes = [tagz] # ERROR: Unsupported attribute in ignore_changes
  }
}
