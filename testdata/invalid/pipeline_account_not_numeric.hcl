resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  add_account = ["team-a"] # ERROR: Invalid value for `add_account`
}
