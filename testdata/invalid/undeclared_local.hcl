resource "alicloud_image" "x" {
  snapshot_id = local.snap # ERROR: Reference to undeclared local value
}
