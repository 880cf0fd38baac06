# Pattern: timeouts blocks, a literal one and one from a variable. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/image.html.markdown (Timeouts) and the
# image_copy page.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "create_timeout" {
  default = "20m"
}

resource "alicloud_image" "slow" {
  snapshot_id = "s-bp1system0001"
  image_name  = "with-timeouts"

  timeouts {
    create = var.create_timeout
    delete = "10m"
  }
}

resource "alicloud_image_import" "slow" {
  image_name = "import-with-timeouts"
  os_type    = "linux"
  platform   = "Ubuntu"

  disk_device_mapping {
    oss_bucket = "imgform-quickstart"
    oss_object = "images/debian-12.raw"
    format     = "RAW"
  }

  timeouts {
    create = "45m"
  }
}
