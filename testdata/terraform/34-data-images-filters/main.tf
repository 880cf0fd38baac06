# Pattern: the full filter set of alicloud_images feeding a pipeline's base image:
# owners, name_regex, architecture, os_type, status, most_recent. Source:
# aliyun/terraform-provider-alicloud, website/docs/d/images.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

data "alicloud_images" "base" {
  owners       = "system"
  name_regex   = "^aliyun_3"
  architecture = "x86_64"
  os_type      = "linux"
  status       = "Available"
  most_recent  = true
}

resource "alicloud_ecs_image_pipeline" "on_alinux" {
  name            = "on-alinux"
  base_image_type = "IMAGE"
  base_image      = data.alicloud_images.base.ids[0]
  build_content   = "RUN yum install -y nginx"
  image_name      = "alinux-nginx"
}

output "base_name" {
  value = data.alicloud_images.base.images[0].name
}
