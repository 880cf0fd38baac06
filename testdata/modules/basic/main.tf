# Modules as public Terraform code for alicloud images uses them: a local module called
# once, a module called with for_each over environments, a nested module, outputs
# read by the caller, and path.module inside the module.
terraform {
  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = ">= 1.200.0"
    }
  }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

variable "envs" {
  type    = set(string)
  default = ["dev", "prod"]
}

locals {
  owner = "platform"
}

module "base" {
  source      = "./modules/golden"
  name        = "base"
  snapshot_id = "s-bp1qs0000000000web"
  tags        = { owner = local.owner }
}

module "env" {
  source      = "./modules/golden"
  for_each    = var.envs
  name        = "app-${each.key}"
  snapshot_id = "s-bp1qs0000000000web"
  tags        = { env = each.value, base = module.base.image_id }
}

resource "alicloud_image_share_permission" "share" {
  image_id   = module.env["prod"].image_id
  account_id = "1234567890123456"
}

output "base_image" {
  value = module.base.image_id
}

output "env_images" {
  value = { for k, m in module.env : k => m.image_id }
}
