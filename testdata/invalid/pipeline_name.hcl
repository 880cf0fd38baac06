resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  name = "-nightly" # ERROR: Invalid value for `name`
}
