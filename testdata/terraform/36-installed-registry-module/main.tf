# Pattern: a registry module with a version constraint, present after `terraform init`
# in .terraform/modules (modules.json maps the call to its directory). Source:
# alibabacloud-automation/terraform-alicloud-ecs-image as published on the registry
# (terraform-alicloud-modules/ecs-image/alicloud).
provider "alicloud" {
  region = "cn-hangzhou"
}

module "ecs_image" {
  source  = "terraform-alicloud-modules/ecs-image/alicloud"
  version = "~> 1.0"

  image_name  = "from-registry"
  snapshot_id = "s-bp1system0002"
}

output "image_id" {
  value = module.ecs_image.image_id
}
