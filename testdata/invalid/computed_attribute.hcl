resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  status      = "Available" # ERROR: Value for a computed attribute
}
