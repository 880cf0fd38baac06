provider "alicloud" {
  region = var.region
}

resource "alicloud_image" "versioned" {
  snapshot_id = "s-bp1system0001"
  image_name  = "versioned-${var.region}"
}
