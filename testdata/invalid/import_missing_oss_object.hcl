resource "alicloud_image_import" "x" {
  disk_device_mapping { # ERROR: Missing required argument
    oss_bucket = "my-bucket"
  }
}
