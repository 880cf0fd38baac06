data "alicloud_images" "x" {
  action_type = "Create" # ERROR: Invalid value for `action_type`
}
