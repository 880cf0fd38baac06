data "alicloud_ecs_image_components" "x" {
  owner = "self" # ERROR: Invalid value for `owner`
}
