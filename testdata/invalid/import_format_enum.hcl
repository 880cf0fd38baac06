resource "alicloud_image_import" "x" {
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk.iso"
    format     = "ISO" # ERROR: Invalid value for `format`
  }
}
