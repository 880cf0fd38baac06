resource "alicloud_image_import" "x" {
  boot_mode = "UEFI-Preferred" # ERROR: Invalid value for `boot_mode`
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk.qcow2"
  }
}
