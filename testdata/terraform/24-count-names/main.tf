# Pattern: count with names built by format() from count.index, and a splat output. Source:
# Terraform language docs, "The count Meta-Argument".
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "replicas" {
  default = 3
}

resource "alicloud_image" "replica" {
  count       = var.replicas
  image_name  = format("replica-%02d", count.index + 1)
  snapshot_id = "s-bp1qs0000000000web"
}

output "names" {
  value = alicloud_image.replica[*].image_name
}
