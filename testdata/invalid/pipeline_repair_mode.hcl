resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  repair_mode = "Deep" # ERROR: Invalid value for `repair_mode`
}
