resource "alicloud_ecs_image_component" "x" {
  content     = "RUN echo hi"
  system_type = "linux" # ERROR: Invalid value for `system_type`
}
