# The same golden image in several regions: one provider per region (aliases), and a
# for_each over a map of regions. Each region has its own system snapshot to build from.

variable "regions" {
  type = map(object({
    snapshot = string
  }))
  default = {
    shanghai = { snapshot = "s-uf6system0001" }
    beijing  = { snapshot = "s-2zesystem0001" }
  }
}

locals {
  tags = { team = "platform", managed_by = "imgform" }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "shanghai"
  region = "cn-shanghai"
}

provider "alicloud" {
  alias  = "beijing"
  region = "cn-beijing"
}

resource "alicloud_image" "golden_shanghai" {
  provider    = alicloud.shanghai
  image_name  = "golden-shanghai"
  snapshot_id = var.regions["shanghai"].snapshot
  tags        = local.tags
}

resource "alicloud_image" "golden_beijing" {
  provider    = alicloud.beijing
  image_name  = "golden-beijing"
  snapshot_id = var.regions["beijing"].snapshot
  tags        = local.tags
}

# Two variants per region in the default region, named from the map keys.
resource "alicloud_image" "variant" {
  for_each    = var.regions
  image_name  = "variant-${each.key}"
  description = "Variant built from ${each.value.snapshot}"
  snapshot_id = "s-bp1system0001"
  tags        = merge(local.tags, { variant = each.key })
}

output "golden" {
  value = {
    shanghai = alicloud_image.golden_shanghai.id
    beijing  = alicloud_image.golden_beijing.id
  }
}
