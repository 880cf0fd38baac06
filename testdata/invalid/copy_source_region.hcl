resource "alicloud_image_copy" "x" {
  source_image_id  = "m-123"
  source_region_id = "Hangzhou" # ERROR: Invalid value for `source_region_id`
}
