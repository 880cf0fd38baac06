resource "alicloud_image" "x" {
  snapshot_id = uper("s-abc") # ERROR: Call to unknown function
}
