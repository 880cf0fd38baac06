provider "alicloud" {
  region = var.region
}

resource "alicloud_image" "this" {
  image_name  = var.name
  snapshot_id = "s-bp1system0001"
  tags = {
    team = var.team
    env  = var.env
  }
}
