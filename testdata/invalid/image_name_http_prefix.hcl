resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  image_name  = "http://web" # ERROR: Invalid value for `image_name`
}
