# Pattern: the image-copy submodule: a copy switched by a boolean, a name cut to 32
# characters with substr, tags merged with the source id. Source:
# alibabacloud-automation/terraform-alicloud-ecs-image, modules/image-copy.
provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "bj"
  region = "cn-beijing"
}

resource "alicloud_image" "base" {
  snapshot_id = "s-bp1system0001"
  image_name  = "copy-me"
}

module "image_copy" {
  source           = "./modules/image-copy"
  copy             = true
  source_image_id  = alicloud_image.base.id
  source_region_id = "cn-hangzhou"
  description      = "copied by the submodule"
  tags             = { Team = "platform" }

  providers = {
    alicloud = alicloud.bj
  }
}

output "copied_image_id" {
  value = module.image_copy.this_image_copy_id
}
