resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-a"
    disk_type   = "system"
  }
  disk_device_mapping {
    snapshot_id = "s-b"
    disk_type   = "system" # ERROR: More than one system disk
  }
}
