# Pattern: an Image Builder pipeline whose base image comes from alicloud_images (most recent
# system image by name), distributed to another region and shared with an account. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/ecs_image_pipeline.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

data "alicloud_images" "default" {
  name_regex  = "^ubuntu_22.*64"
  most_recent = true
  owners      = "system"
}

resource "alicloud_ecs_image_pipeline" "default" {
  add_account                = ["1234567890123"]
  base_image                 = data.alicloud_images.default.ids.0
  base_image_type            = "IMAGE"
  build_content              = "RUN yum update -y"
  delete_instance_on_failure = false
  image_name                 = "terraform-example"
  name                       = "terraform-example"
  description                = "terraform-example"
  instance_type              = "ecs.g7.large"
  resource_group_id          = "rg-default"
  internet_max_bandwidth_out = 20
  system_disk_size           = 40
  to_region_id               = ["cn-shanghai", "cn-beijing"]
  vswitch_id                 = "vsw-bp1default001"
  tags = {
    Created = "TF"
    For     = "Acceptance-test"
  }
}
