resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "ISO" # ERROR: Invalid value for `base_image_type`
  base_image      = "m-abc"
}
