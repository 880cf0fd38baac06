resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-abc"
    size        = 40000 # ERROR: Invalid value for `size`
  }
}
