resource "alicloud_ecs_image_component" "x" {
  content        = "RUN echo hi"
  component_type = "Deploy" # ERROR: Invalid value for `component_type`
}
