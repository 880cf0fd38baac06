resource "alicloud_image_share_permission" "x" {
  image_id   = "m-123"
  account_id = "ops-team" # ERROR: Invalid value for `account_id`
}
