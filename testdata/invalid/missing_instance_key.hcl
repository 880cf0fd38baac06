resource "alicloud_image" "x" {
  count       = 2
  snapshot_id = "s-abc123"
}
output "o" {
  value = alicloud_image.x.id # ERROR: Missing resource instance key
}
