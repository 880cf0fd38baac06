resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-abc"
    disk_type   = "system"
    device      = "/dev/xvdb" # ERROR: Invalid system disk device
  }
}
