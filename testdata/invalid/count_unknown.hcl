resource "alicloud_image" "a" {
  snapshot_id = "s-abc123"
}
resource "alicloud_image" "x" {
  count       = length(alicloud_image.a.id) # ERROR: Invalid count argument
  snapshot_id = "s-abc123"
}
