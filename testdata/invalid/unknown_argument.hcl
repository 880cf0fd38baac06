resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  image_nmae  = "web" # ERROR: Unsupported argument
}
