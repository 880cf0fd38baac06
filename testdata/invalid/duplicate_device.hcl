resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-sys"
    disk_type   = "system"
    device      = "/dev/xvda"
  }
  disk_device_mapping {
    snapshot_id = "s-d1"
    disk_type   = "data"
    device      = "/dev/xvdb"
  }
  disk_device_mapping {
    snapshot_id = "s-d2"
    disk_type   = "data"
    device      = "/dev/xvdb" # ERROR: Duplicate device name
  }
}
