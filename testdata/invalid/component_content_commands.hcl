resource "alicloud_ecs_image_component" "x" {
  content = "INSTALL nginx" # ERROR: Invalid value for `content`
}
