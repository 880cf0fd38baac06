variable "image_name" {
  type = string
}

variable "snapshot_id" {
  type = string
}

resource "alicloud_image" "this" {
  image_name  = var.image_name
  snapshot_id = var.snapshot_id
}

output "image_id" {
  value = alicloud_image.this.id
}
