# Pattern: a custom image from a system-disk snapshot, the first example of the
# alicloud_image page. Source: aliyun/terraform-provider-alicloud, website/docs/r/image.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "default" {
  snapshot_id  = "s-bp1qs0000000000web"
  image_name   = "tf-image-from-snapshot"
  description  = "made from a snapshot"
  architecture = "x86_64"
  platform     = "Ubuntu"
  tags = {
    FinanceDept = "FinanceDeptJoshua"
  }
}
