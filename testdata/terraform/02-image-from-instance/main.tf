# Pattern: an image of a running instance (CreateImage with InstanceId), resource group and
# image family set. Source: aliyun/terraform-provider-alicloud, website/docs/r/image.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "from_instance" {
  instance_id       = "i-bp1running"
  image_name        = "tf-image-from-instance"
  image_family      = "tf-family"
  resource_group_id = "rg-default"
  description       = "captured from a running web server"
}
