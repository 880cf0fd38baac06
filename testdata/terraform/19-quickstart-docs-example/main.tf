# Pattern: a quickstart example: a `name` variable with a plain default and two resources
# built on each other, outputs of their ids. Source: shanye997/landing-with-terraform,
# quickstarts/*-docs-Example (the ECS image examples).
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "name" {
  default = "tf_example"
}

resource "alicloud_image" "default" {
  instance_id = "i-bp1stopped"
  image_name  = var.name
  description = var.name
}

resource "alicloud_image_share_permission" "default" {
  image_id   = alicloud_image.default.id
  account_id = "1234567890"
}

output "image_id" {
  value = alicloud_image.default.id
}
