data "alicloud_images" "x" {
  name_regex = "^ubuntu(" # ERROR: Invalid value for `name_regex`
}
