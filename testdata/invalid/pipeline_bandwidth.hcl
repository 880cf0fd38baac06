resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  internet_max_bandwidth_out = 101 # ERROR: Invalid value for `internet_max_bandwidth_out`
}
