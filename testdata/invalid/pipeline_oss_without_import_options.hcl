resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "OSS" # ERROR: Missing import_image_options
}
