resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  architecture = "amd64" # ERROR: Invalid value for `architecture`
}
