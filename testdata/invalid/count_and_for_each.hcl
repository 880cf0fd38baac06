resource "alicloud_image" "x" {
  count       = 1
  for_each    = toset(["a"]) # ERROR: Invalid combination of count and for_each
  snapshot_id = "s-abc123"
}
