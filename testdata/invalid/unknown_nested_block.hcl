resource "alicloud_image" "x" {
  disk_device_maping { # ERROR: Unsupported block type
    snapshot_id = "s-abc"
  }
  snapshot_id = "s-abc123"
}
