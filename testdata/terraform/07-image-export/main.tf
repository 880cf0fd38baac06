# Pattern: an image exported to an OSS bucket under a prefix. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/image_export.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "default" {
  snapshot_id = "s-bp1system0002"
  image_name  = "terraform-example-export"
}

resource "alicloud_image_export" "default" {
  image_id   = alicloud_image.default.id
  oss_bucket = "imgform-quickstart"
  oss_prefix = "ecsExport"
}
