resource "alicloud_image_import" "x" {
  architecture = "arm64"
  boot_mode    = "BIOS" # ERROR: arm64 imports need UEFI
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk.qcow2"
  }
}
