resource "alicloud_image" "this" {
  snapshot_id = "s-bp1system0002"
  image_name  = "web"
}
