# Pattern: build commands kept in a template file next to the module and rendered with
# templatefile(path.module/...), component and pipeline tied by reference. Source:
# Terraform language docs, "templatefile Function", and the provider's
# ecs_image_component page.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "packages" {
  default = ["nginx", "curl"]
}

resource "alicloud_ecs_image_component" "install" {
  image_component_name = "install-packages"
  system_type          = "Linux"
  content              = templatefile("${path.module}/templates/install.tftpl", { packages = var.packages })
}

resource "alicloud_ecs_image_pipeline" "web" {
  name            = "templated"
  base_image_type = "IMAGE"
  base_image      = "aliyun_3_x64_20G_alibase_20240101.vhd"
  build_content   = "COMPONENT ${alicloud_ecs_image_component.install.id}"
}
