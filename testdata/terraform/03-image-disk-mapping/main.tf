# Pattern: an image from several snapshots: one disk_device_mapping block per disk, a data
# disk with its own size. Source: aliyun/terraform-provider-alicloud acceptance tests
# (alicloud/resource_alicloud_image_test.go, the disk_device_mapping step).
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "name" {
  default = "tf-testAccEcsImageConfigMapping"
}

resource "alicloud_image" "default" {
  image_name   = var.name
  architecture = "x86_64"
  platform     = "Ubuntu"

  disk_device_mapping {
    snapshot_id = "s-bp1system0001"
    disk_type   = "system"
    size        = 40
  }

  disk_device_mapping {
    snapshot_id = "s-bp1data0001"
    disk_type   = "data"
    size        = 100
  }
}
