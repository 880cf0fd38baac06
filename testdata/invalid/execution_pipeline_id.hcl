resource "alicloud_ecs_image_pipeline_execution" "x" {
  image_pipeline_id = "pipeline-1" # ERROR: Invalid value for `image_pipeline_id`
}
