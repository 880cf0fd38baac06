resource "alicloud_image" "x" {
  disk_device_mapping { # ERROR: No system disk
    snapshot_id = "s-a"
    disk_type   = "data"
  }
}
