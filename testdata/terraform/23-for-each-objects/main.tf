# Pattern: for_each over a map of objects with optional attributes and defaults; each.key
# and each.value in arguments. Source: Terraform language docs, "The for_each Meta-Argument"
# and "Type Constraints" (optional object attributes).
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "images" {
  type = map(object({
    snapshot = string
    family   = optional(string, "golden")
    tags     = optional(map(string), {})
  }))
  default = {
    web = { snapshot = "s-bp1system0001" }
    api = { snapshot = "s-bp1system0002", family = "api", tags = { Tier = "backend" } }
  }
}

resource "alicloud_image" "this" {
  for_each     = var.images
  image_name   = "img-${each.key}"
  snapshot_id  = each.value.snapshot
  image_family = each.value.family
  tags         = merge({ Name = each.key }, each.value.tags)
}

output "ids" {
  value = { for k, v in alicloud_image.this : k => v.id }
}
