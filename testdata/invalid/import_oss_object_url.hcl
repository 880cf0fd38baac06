resource "alicloud_image_import" "x" {
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "https://my-bucket.oss/disk.raw" # ERROR: Invalid value for `oss_object`
  }
}
