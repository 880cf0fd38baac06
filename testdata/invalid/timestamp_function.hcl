resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  description = "built ${timestamp()}" # ERROR: Function not available
}
