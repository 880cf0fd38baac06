resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-abc"
    disk_type   = "root" # ERROR: Invalid value for `disk_type`
  }
}
