resource "alicloud_image" "x" {
  snapshot_id = "s-${count.index}" # ERROR: Reference to "count" in a non-counted context
}
