resource "alicloud_image_import" "x" {
  os_type = "Linux" # ERROR: Invalid value for `os_type`
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk.qcow2"
  }
}
