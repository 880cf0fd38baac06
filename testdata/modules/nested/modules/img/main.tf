variable "index" {
  type = number
}

variable "team" {
  type = string

  validation {
    condition     = length(var.team) > 2
    error_message = "team must be longer than two characters."
  }
}

module "meta" {
  source = "../meta"
  team   = var.team
}

resource "alicloud_image" "this" {
  image_name  = "replica-${var.index}"
  snapshot_id = "s-uf6system0001"
  tags        = module.meta.tags
}

output "name" {
  value = alicloud_image.this.image_name
}
