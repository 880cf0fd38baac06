# Pattern: refactoring recorded with moved blocks (a rename and a move into a module), kept
# in the configuration after the move. Source: Terraform language docs, "Refactoring"
# (moved blocks).
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "golden" {
  snapshot_id = "s-bp1system0001"
  image_name  = "golden"
}

moved {
  from = alicloud_image.base
  to   = alicloud_image.golden
}

module "web" {
  source = "./modules/web"
}

moved {
  from = alicloud_image.web
  to   = module.web.alicloud_image.this
}
