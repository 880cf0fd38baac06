resource "alicloud_ecs_image_component" "x" {
  content              = "RUN echo hi"
  image_component_name = "1-base" # ERROR: Invalid value for `image_component_name`
}
