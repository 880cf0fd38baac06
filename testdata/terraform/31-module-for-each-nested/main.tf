# Pattern: one module instance per environment with for_each, a nested module inside it,
# outputs collected with a for expression over the module instances. Source: Terraform
# language docs, "Modules" (for_each on module blocks, nested modules).
provider "alicloud" {
  region = "cn-hangzhou"
}

module "env" {
  source   = "./modules/env"
  for_each = toset(["dev", "prod"])
  env      = each.key
}

output "images" {
  value = { for k, m in module.env : k => m.image_name }
}
