resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  build_content = join("\n", [for i in range(128) : "RUN echo ${i}"]) # ERROR: Invalid value for `build_content`
}
