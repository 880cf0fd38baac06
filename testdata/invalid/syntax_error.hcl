resource "alicloud_image" "x" {
  image_name = # ERROR: Invalid HCL syntax
}
