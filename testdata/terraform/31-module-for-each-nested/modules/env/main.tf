variable "env" {
  type = string
}

module "naming" {
  source = "../naming"
  env    = var.env
}

resource "alicloud_image" "this" {
  snapshot_id = "s-bp1system0001"
  image_name  = module.naming.name
  tags        = module.naming.tags
}

output "image_name" {
  value = alicloud_image.this.image_name
}
