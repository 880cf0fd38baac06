# Pattern: a share submodule taking a list of account ids, one permission per account with
# for_each over toset(...), outputs listing them. Source:
# alibabacloud-automation/terraform-alicloud-ecs-image, modules/image-share-permission.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "shared" {
  snapshot_id = "s-bp1qs0000000000web"
  image_name  = "shared-image"
}

module "image_share_permission" {
  source      = "./modules/share"
  image_id    = alicloud_image.shared.id
  account_ids = ["1111111111", "2222222222"]
}

output "shared_with" {
  value = module.image_share_permission.this_share_image_permission_account_ids
}
