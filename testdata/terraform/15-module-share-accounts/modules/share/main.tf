variable "image_id" {
  type = string
}

variable "account_ids" {
  type    = list(string)
  default = []
}

resource "alicloud_image_share_permission" "this" {
  for_each   = toset(var.account_ids)
  image_id   = var.image_id
  account_id = each.value
}

output "this_share_image_permission_account_ids" {
  value = sort([for p in alicloud_image_share_permission.this : p.account_id])
}
