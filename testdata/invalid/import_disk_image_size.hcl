resource "alicloud_image_import" "x" {
  disk_device_mapping {
    oss_bucket      = "my-bucket"
    oss_object      = "disk.raw"
    disk_image_size = 2049 # ERROR: Invalid value for `disk_image_size`
  }
}
