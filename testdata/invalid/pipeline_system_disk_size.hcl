resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  system_disk_size = 501 # ERROR: Invalid value for `system_disk_size`
}
