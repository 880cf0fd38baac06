# Pattern: settings objects read with try() for attributes that may be absent, and
# coalesce() for empty strings. Source: OpenTofu language docs, "try Function"
# (opentofu.org/docs/language/functions/try).
provider "alicloud" {
  region = "cn-hangzhou"
}

locals {
  raw = jsondecode(<<-EOT
    {
      "images": [
        {"name": "a", "snapshot": "s-bp1system0001"},
        {"name": "b", "snapshot": "s-bp1system0002", "description": "second"}
      ]
    }
  EOT
  )
  images = {
    for i in local.raw.images : i.name => {
      snapshot    = i.snapshot
      description = try(i.description, "no description")
    }
  }
}

resource "alicloud_image" "from_settings" {
  for_each    = local.images
  image_name  = coalesce("", "settings-${each.key}")
  snapshot_id = each.value.snapshot
  description = each.value.description
}
