# Pattern: consuming the newest image of a family (as Packer builds them) with
# alicloud_images filtered by name, owners = "self" and most_recent; the lookup waits for
# the image made in the same run (depends_on). Source: Packer's alicloud-ecs builder docs
# (developer.hashicorp.com/packer/integrations/hashicorp/alicloud) and the provider's
# website/docs/d/images.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "packer_like" {
  snapshot_id  = "s-bp1system0002"
  image_name   = "packer-web-20261129"
  image_family = "packer-web"
}

data "alicloud_images" "latest" {
  name_regex  = "^packer-web-"
  owners      = "self"
  most_recent = true
  depends_on  = [alicloud_image.packer_like]
}

output "latest_id" {
  value = data.alicloud_images.latest.ids[0]
}
