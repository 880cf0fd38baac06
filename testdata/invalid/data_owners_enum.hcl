data "alicloud_images" "x" {
  owners = "public" # ERROR: Invalid value for `owners`
}
