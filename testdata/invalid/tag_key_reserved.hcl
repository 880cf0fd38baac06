resource "alicloud_image" "x" {
  snapshot_id = "s-abc123"
  tags = { # ERROR: Invalid value for `tags`
    "aliyun-team" = "a"
  }
}
