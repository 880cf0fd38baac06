# Pattern: optional resources switched by booleans (count = var.x ? 1 : 0), and outputs
# that survive a zero count with concat(x[*].id, [""])[0]. Source:
# alibabacloud-automation/terraform-alicloud-ecs-image, main.tf and outputs.tf.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "create_with_snapshot" {
  type    = bool
  default = true
}

variable "create_with_instance" {
  type    = bool
  default = false
}

resource "alicloud_image" "with_snapshot" {
  count       = var.create_with_snapshot ? 1 : 0
  snapshot_id = "s-bp1system0001"
  image_name  = "toggle-snapshot"
}

resource "alicloud_image" "with_instance" {
  count       = var.create_with_instance ? 1 : 0
  instance_id = "i-bp1running"
  image_name  = "toggle-instance"
}

output "this_create_image_ids" {
  value = concat(alicloud_image.with_instance[*].id, alicloud_image.with_snapshot[*].id)
}

output "this_instance_image_id" {
  value = concat(alicloud_image.with_instance[*].id, [""])[0]
}
