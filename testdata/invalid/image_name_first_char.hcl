resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  image_name  = "1web" # ERROR: Invalid value for `image_name`
}
