# An image imported from OSS, a pipeline that hardens it, and a build of that pipeline
# distributed to two more regions. The build waits until the pipeline execution really
# finishes (SUCCESS), not just until it starts.

variable "release" {
  type    = string
  default = "2026.11"
}

provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image_import" "base" {
  image_name   = "base-debian-12"
  architecture = "x86_64"
  os_type      = "linux"
  platform     = "Debian"

  disk_device_mapping {
    oss_bucket = "imgform-quickstart"
    oss_object = "images/debian-12.raw"
    format     = "RAW"
  }
}

resource "alicloud_ecs_image_pipeline" "hardened" {
  name            = "hardened-debian"
  base_image_type = "IMAGE"
  base_image      = alicloud_image_import.base.id
  to_region_id    = ["cn-shanghai", "cn-beijing"]
  build_content   = <<-EOT
    RUN apt-get update -y && apt-get upgrade -y
    RUN echo "release ${var.release}" > /etc/image-release
  EOT

  image_options {
    image_name   = "hardened-debian"
    image_family = "hardened-debian"
  }

  tags = {
    release = var.release
  }
}

resource "alicloud_ecs_image_pipeline_execution" "build" {
  image_pipeline_id       = alicloud_ecs_image_pipeline.hardened.id
  delete_image_on_destroy = true

  # A new build whenever the build content changes.
  triggers = {
    content = sha256(alicloud_ecs_image_pipeline.hardened.build_content)
  }

  timeouts {
    create = "3h"
  }
}

output "built_image" {
  value = alicloud_ecs_image_pipeline_execution.build.image_id
}
