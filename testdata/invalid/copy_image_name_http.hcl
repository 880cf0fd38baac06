resource "alicloud_image_copy" "x" {
  source_image_id  = "m-123"
  source_region_id = "cn-hangzhou"
  image_name       = "http://copy" # ERROR: Invalid value for `image_name`
}
