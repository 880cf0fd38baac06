resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
}
output "o" {
  value = alicloud_image.x.imageid # ERROR: Unsupported attribute
}
