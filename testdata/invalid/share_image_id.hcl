resource "alicloud_image_share_permission" "x" {
  image_id   = "s-123" # ERROR: Invalid value for `image_id`
  account_id = "1234567890"
}
