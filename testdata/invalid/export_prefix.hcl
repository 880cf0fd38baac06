resource "alicloud_image_export" "x" {
  image_id   = "m-123"
  oss_bucket = "archive"
  oss_prefix = "golden/images" # ERROR: Invalid value for `oss_prefix`
}
