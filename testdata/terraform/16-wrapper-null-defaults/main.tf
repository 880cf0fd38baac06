# Pattern: a generated wrapper module per resource: every argument a variable whose default
# is null, passed through unconditionally; null means unset. Source: niveklabs/alicloud,
# r/alicloud_image (variables.tf, main.tf, outputs.tf).
provider "alicloud" {
  region = "cn-hangzhou"
}

module "alicloud_image" {
  source = "./r/alicloud_image"

  image_name  = "wrapped"
  snapshot_id = "s-bp1system0001"
  tags        = { Owner = "wrapper" }
}

output "wrapped_id" {
  value = module.alicloud_image.id
}
