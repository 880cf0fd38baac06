resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  license_type = "GPL" # ERROR: Invalid value for `license_type`
}
