# What Terraform users write for these resources, ported by copy and paste.
variable "regions" {
  type = map(string)
  default = {
    hangzhou = "cn-hangzhou"
    shanghai = "cn-shanghai"
  }
}

variable "app" {
  type    = string
  default = "shop"
}

locals {
  version     = "v1"
  name_prefix = "${var.app}-${local.version}"
  common_tags = merge({ app = var.app }, { team = "platform" })
}

provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "shanghai"
  region = "cn-shanghai"
}

data "alicloud_images" "ubuntu" {
  name_regex  = "^ubuntu_22_04_x64"
  owners      = "system"
  most_recent = true
}

resource "alicloud_image" "from_snapshot" {
  for_each    = var.regions
  image_name  = "${local.name_prefix}-${each.key}"
  description = "Image for ${each.value}"
  snapshot_id = "s-${each.key}0001"
  tags        = local.common_tags
}

resource "alicloud_image" "counted" {
  count       = 2
  image_name  = format("%s-%02d", local.name_prefix, count.index)
  instance_id = "i-bp1web${count.index}"
  provider    = alicloud.shanghai

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
  }

  timeouts {
    create = "2h"
  }
}

resource "alicloud_ecs_image_pipeline" "nightly" {
  name            = "${var.app}-nightly"
  base_image_type = "IMAGE"
  base_image      = data.alicloud_images.ubuntu.ids.0
  to_region_id    = [for k, r in var.regions : r if k != "hangzhou"]
  build_content = <<EOF
RUN yum install -y nginx
RUN echo ${var.app} > /etc/app
EOF
}

resource "alicloud_ecs_image_pipeline_execution" "nightly" {
  image_pipeline_id = alicloud_ecs_image_pipeline.nightly.id
  triggers = {
    content = sha256(alicloud_ecs_image_pipeline.nightly.build_content)
  }
}

output "image_ids" {
  value = [for k, img in alicloud_image.from_snapshot : img.id]
}

output "counted_names" {
  value = alicloud_image.counted[*].image_name
}
