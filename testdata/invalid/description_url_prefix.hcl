resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  description = "https://example.com/web" # ERROR: Invalid value for `description`
}
