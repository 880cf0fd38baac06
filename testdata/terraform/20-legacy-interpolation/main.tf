# Pattern: Terraform 0.11 style: interpolation-only strings ("${var.x}"), the provider
# configured from variables, a data source indexed with `.0`. Source: status-im/infra-utils,
# alicloud/list_images/main.tf.
variable "alicloud_region" {
  default = "cn-hangzhou"
}

provider "alicloud" {
  region = "${var.alicloud_region}"
}

data "alicloud_images" "ubuntu" {
  owners     = "system"
  name_regex = "ubuntu"
}

resource "alicloud_ecs_image_pipeline" "legacy" {
  name            = "legacy-${var.alicloud_region}"
  base_image_type = "IMAGE"
  base_image      = "${data.alicloud_images.ubuntu.images.0.id}"
  build_content   = "RUN echo legacy"
}

output "images" {
  value = "${data.alicloud_images.ubuntu.images.0.id}"
}
