# Pattern: an image shared with another account. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/image_share_permission.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "another_uid" {
  default = "123456789"
}

resource "alicloud_image" "default" {
  instance_id = "i-bp1stopped"
  image_name  = "terraform-example-share"
  description = "terraform-example"
}

resource "alicloud_image_share_permission" "default" {
  image_id   = alicloud_image.default.id
  account_id = var.another_uid
}
