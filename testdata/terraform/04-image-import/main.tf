# Pattern: an image imported from an OSS object with license and OS settings. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/image_import.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image_import" "this" {
  description  = "test import image"
  architecture = "x86_64"
  image_name   = "test-import-image"
  license_type = "Auto"
  platform     = "Ubuntu"
  os_type      = "linux"

  disk_device_mapping {
    disk_image_size = 5
    oss_bucket      = "imgform-quickstart"
    oss_object      = "tf-oss-bucket-object-key"
  }
}
