resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  platform    = "Windows 11" # ERROR: Invalid value for `platform`
}
