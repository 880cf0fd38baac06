variable "copy" {
  type    = bool
  default = false
}

variable "image_name" {
  type    = string
  default = ""
}

variable "source_image_id" {
  type = string
}

variable "source_region_id" {
  type = string
}

variable "description" {
  type    = string
  default = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}

resource "alicloud_image_copy" "this" {
  count            = var.copy ? 1 : 0
  image_name       = var.image_name != "" ? var.image_name : substr("tf-copied-image-${replace(var.source_image_id, "-", "")}", 0, 32)
  source_image_id  = var.source_image_id
  source_region_id = var.source_region_id
  description      = var.description
  tags = merge({
    Create = "Terraform"
    Source = "source_image_id:${var.source_image_id}"
  }, var.tags)
}

output "this_image_copy_id" {
  value = concat(alicloud_image_copy.this[*].id, [""])[0]
}
