# Pattern: a pipeline and one build of it, the build's image read by another resource.
# Source: alibabacloud-automation/landing-with-terraform,
# quickstarts/ECS/101-ecs-image-pipeline-execution-docs-Example.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "name" {
  default = "terraform-example"
}

resource "alicloud_ecs_image_pipeline" "pipelineExection-pipeline" {
  base_image_type = "IMAGE"
  base_image      = "aliyun_3_x64_20G_alibase_20240101.vhd"
  build_content   = "RUN echo hello"
  name            = var.name
  instance_type   = "ecs.g6.large"
  vswitch_id      = "vsw-bp1default001"
}

resource "alicloud_ecs_image_pipeline_execution" "default" {
  image_pipeline_id = alicloud_ecs_image_pipeline.pipelineExection-pipeline.id
}

output "built_image" {
  value = alicloud_ecs_image_pipeline_execution.default.image_id
}
