resource "alicloud_ecs_image_pipeline_execution" "x" {
  image_pipeline_id = "ip-123"
  status            = "SUCCESS" # ERROR: Invalid value for `status`
}
