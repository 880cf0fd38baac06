resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-abc"
    device      = "/dev/sda" # ERROR: Invalid value for `device`
  }
}
