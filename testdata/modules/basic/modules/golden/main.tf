variable "name" {
  type = string
}

variable "snapshot_id" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}

locals {
  description = trimspace(file("${path.module}/description.txt"))
}

resource "alicloud_image" "this" {
  image_name   = var.name
  description  = local.description
  snapshot_id  = var.snapshot_id
  architecture = "x86_64"
  platform     = "Ubuntu"
  tags         = merge(var.tags, { module = "golden" })
}

output "image_id" {
  value = alicloud_image.this.id
}
