resource "alicloud_image" "x" {
  snapshot_id = "snap-1" # ERROR: Invalid value for `snapshot_id`
}
