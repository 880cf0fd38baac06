resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  provider    = alicloud.shanghai # ERROR: Provider configuration not present
}
