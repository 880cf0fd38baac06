resource "alicloud_image" "x" {
  snapshot_id = var.snap # ERROR: Reference to undeclared input variable
}
