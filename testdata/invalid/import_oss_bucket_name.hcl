resource "alicloud_image_import" "x" {
  disk_device_mapping {
    oss_bucket = "My_Bucket" # ERROR: Invalid value for `oss_bucket`
    oss_object = "disk.raw"
  }
}
