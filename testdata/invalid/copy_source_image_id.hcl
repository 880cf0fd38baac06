resource "alicloud_image_copy" "x" {
  source_image_id  = "img-123" # ERROR: Invalid value for `source_image_id`
  source_region_id = "cn-hangzhou"
}
