# Pattern: a root configuration calling a local image module with feature toggles and
# reading its outputs. Source: alibabacloud-automation/terraform-alicloud-ecs-image
# (examples/complete calling the module).
provider "alicloud" {
  region = "cn-hangzhou"
}

module "ecs_image" {
  source = "./modules/ecs-image"

  create_image_with_snapshot = true
  snapshot_id                = "s-bp1system0002"
  image_name                 = "module-image"
  import_image               = true
  oss_bucket                 = "imgform-cn-hangzhou"
  oss_object                 = "images/alinux-3.vhd"
  tags = {
    Env = "test"
  }
}

output "image_ids" {
  value = module.ecs_image.this_create_image_ids
}

output "imported_name" {
  value = module.ecs_image.this_import_image_name
}
