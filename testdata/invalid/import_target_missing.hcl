import {
  to = alicloud_image.y # ERROR: Import target is not in the configuration
  id = "m-123"
}
