resource "alicloud_image_import" "x" {
  os_type  = "windows"
  platform = "Ubuntu" # ERROR: Platform does not match the OS type
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk.qcow2"
  }
}
