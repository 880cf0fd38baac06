# A golden image's whole life: a reusable component, a pipeline that uses it, a build,
# copies of the built image in two more regions, the image shared with two accounts, and
# an archive of it exported to OSS.
#
#   imgform --cloud local -C examples/golden-image apply
#   imgform --cloud local -C examples/golden-image destroy

variable "copy_regions" {
  type    = set(string)
  default = ["cn-shanghai", "cn-beijing"]
}

variable "accounts" {
  type    = set(string)
  default = ["1234567890123", "2345678901234"]
}

locals {
  tags = { team = "platform", image = "golden" }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "shanghai"
  region = "cn-shanghai"
}

provider "alicloud" {
  alias  = "beijing"
  region = "cn-beijing"
}

resource "alicloud_ecs_image_component" "hardening" {
  image_component_name = "golden-hardening"
  component_type       = "Build"
  system_type          = "Linux"
  content              = <<-EOT
    RUN apt-get update && apt-get upgrade -y
    RUN systemctl disable --now rpcbind || true
  EOT
  tags                 = local.tags
}

resource "alicloud_ecs_image_pipeline" "golden" {
  name            = "golden"
  base_image_type = "IMAGE"
  base_image      = "ubuntu_22_04_x64_20G_alibase_20240101.vhd"
  build_content   = "COMPONENT ${alicloud_ecs_image_component.hardening.id}"

  image_options {
    image_name = "golden"
  }
  tags = local.tags
}

resource "alicloud_ecs_image_pipeline_execution" "build" {
  image_pipeline_id       = alicloud_ecs_image_pipeline.golden.id
  delete_image_on_destroy = true
}

resource "alicloud_image_copy" "shanghai" {
  provider         = alicloud.shanghai
  source_image_id  = alicloud_ecs_image_pipeline_execution.build.image_id
  source_region_id = "cn-hangzhou"
  image_name       = "golden-shanghai"
  tags             = local.tags
}

resource "alicloud_image_copy" "beijing" {
  provider         = alicloud.beijing
  source_image_id  = alicloud_ecs_image_pipeline_execution.build.image_id
  source_region_id = "cn-hangzhou"
  image_name       = "golden-beijing"
  tags             = local.tags
}

resource "alicloud_image_share_permission" "team" {
  for_each   = var.accounts
  image_id   = alicloud_ecs_image_pipeline_execution.build.image_id
  account_id = each.value
}

resource "alicloud_image_export" "archive" {
  image_id     = alicloud_ecs_image_pipeline_execution.build.image_id
  oss_bucket   = "imgform-quickstart"
  oss_prefix   = "golden"
  image_format = "qcow2"
}

output "golden_image" {
  value = alicloud_ecs_image_pipeline_execution.build.image_id
}

output "copies" {
  value = {
    shanghai = alicloud_image_copy.shanghai.id
    beijing  = alicloud_image_copy.beijing.id
  }
}
