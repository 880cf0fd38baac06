resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  features {
    nvme_support = "maybe" # ERROR: Invalid value for `nvme_support`
  }
}
