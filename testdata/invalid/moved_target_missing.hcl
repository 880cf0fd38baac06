moved { # ERROR: Moved object's new address is not in the configuration
  from = alicloud_image.a
  to   = alicloud_image.b
}
