resource "alicloud_ecs_image_component" "x" { # ERROR: Missing required argument
  system_type = "Linux"
}
