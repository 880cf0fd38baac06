resource "alicloud_image" "x" { # ERROR: No image source
  image_name = "web"
}
