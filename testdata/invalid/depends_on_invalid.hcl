resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  depends_on  = ["alicloud_image.y"] # ERROR: Invalid depends_on reference
}
