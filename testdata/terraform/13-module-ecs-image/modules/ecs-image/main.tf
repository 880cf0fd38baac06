locals {
  tags = merge({ Create = "Terraform" }, var.tags)
}

resource "alicloud_image" "with_snapshot" {
  count       = var.create_image_with_snapshot ? 1 : 0
  snapshot_id = var.snapshot_id
  image_name  = var.image_name
  tags        = local.tags
}

resource "alicloud_image_import" "this" {
  count      = var.import_image ? 1 : 0
  image_name = "${var.image_name}-imported"
  os_type    = "linux"
  platform   = "Aliyun"

  disk_device_mapping {
    oss_bucket = var.oss_bucket
    oss_object = var.oss_object
  }
}
