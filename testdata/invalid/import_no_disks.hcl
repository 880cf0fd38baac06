resource "alicloud_image_import" "x" { # ERROR: Wrong number of blocks
  image_name = "imported"
}
