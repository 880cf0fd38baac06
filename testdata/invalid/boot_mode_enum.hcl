resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  boot_mode   = "Legacy" # ERROR: Invalid value for `boot_mode`
}
