# A counted module whose resources use a provider passed with `providers`, a module nested
# in it that has no resources (a tags helper), and depends_on on a module call.
provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}

variable "replicas" {
  type    = number
  default = 2
}

resource "alicloud_image" "seed" {
  image_name  = "seed"
  snapshot_id = "s-bp1qs0000000000web"
}

module "img" {
  source = "./modules/img"
  count  = var.replicas
  index  = count.index
  team   = "platform"

  providers = {
    alicloud = alicloud.sh
  }

  depends_on = [alicloud_image.seed]
}

output "names" {
  value = module.img[*].name
}
