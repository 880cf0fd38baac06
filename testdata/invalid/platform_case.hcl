resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  platform    = "ubuntu" # ERROR: Invalid value for `platform`
}
