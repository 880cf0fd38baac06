# Pattern: a custom image copied into another region through a provider alias, tagged with
# its origin. Source: aliyun/terraform-provider-alicloud, website/docs/r/image_copy.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}

resource "alicloud_image" "source" {
  snapshot_id = "s-bp1qs0000000000web"
  image_name  = "copy-source"
}

resource "alicloud_image_copy" "default" {
  provider         = alicloud.sh
  source_image_id  = alicloud_image.source.id
  source_region_id = "cn-hangzhou"
  image_name       = "terraform-example"
  description      = "terraform-example"
  tags = {
    FinanceJoshua = "Dept"
  }
}
