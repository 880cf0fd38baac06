resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  detection_strategy = "Full" # ERROR: Invalid value for `detection_strategy`
}
