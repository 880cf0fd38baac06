resource "alicloud_image" "a" {
  snapshot_id = "s-abc123"
  description = alicloud_image.b.description
}
resource "alicloud_image" "b" {
  snapshot_id = "s-abc123"
  description = alicloud_image.a.description # ERROR: Cycle in the dependency graph
}
