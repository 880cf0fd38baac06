resource "alicloud_ecs_image_component" "x" {
  content           = "RUN echo hi"
  component_version = "1.0" # ERROR: Invalid value for `component_version`
}
