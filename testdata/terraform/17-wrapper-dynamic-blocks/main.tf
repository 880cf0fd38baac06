# Pattern: a wrapper module that turns list-of-object variables into nested blocks with
# dynamic blocks (disk_device_mapping from a set(object), and timeouts from a list whose
# unset members are null). Source: niveklabs/alicloud,
# r/alicloud_image_import/main.tf.
provider "alicloud" {
  region = "cn-hangzhou"
}

module "alicloud_image_import" {
  source = "./r/alicloud_image_import"

  image_name = "wrapped-import"
  os_type    = "linux"
  platform   = "Ubuntu"

  disk_device_mapping = [{
    device          = null
    disk_image_size = 20
    format          = "QCOW2"
    oss_bucket      = "imgform-quickstart"
    oss_object      = "images/ubuntu-22.04.qcow2"
  }]

  timeouts = [{
    create = "30m"
    delete = null
  }]
}
