resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  features {
    imds_support = "v3" # ERROR: Invalid value for `imds_support`
  }
}
