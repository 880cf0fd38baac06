resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  timeouts {
    create = "an hour" # ERROR: Invalid duration
  }
}
