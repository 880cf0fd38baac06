resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "OSS"
  import_image_options {
    architecture = "arm64"
    boot_mode    = "BIOS" # ERROR: arm64 imports need UEFI
    disk_device_mappings {
      oss_bucket = "my-bucket"
      oss_object = "disk.raw"
    }
  }
}
