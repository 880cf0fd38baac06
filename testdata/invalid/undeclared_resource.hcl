resource "alicloud_image" "x" {
  snapshot_id = alicloud_image.base.id # ERROR: Reference to undeclared resource
}
