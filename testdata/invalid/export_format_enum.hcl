resource "alicloud_image_export" "x" {
  image_id     = "m-123"
  oss_bucket   = "archive"
  image_format = "iso" # ERROR: Invalid value for `image_format`
}
