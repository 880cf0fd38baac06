resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  image_family = "acs:web" # ERROR: Invalid value for `image_family`
}
