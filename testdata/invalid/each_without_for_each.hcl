resource "alicloud_image" "x" {
  snapshot_id = each.value # ERROR: Reference to "each" in a context without for_each
}
