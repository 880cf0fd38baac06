resource "alicloud_image" "this" {
  architecture      = var.architecture
  description       = var.description
  image_name        = var.image_name
  instance_id       = var.instance_id
  platform          = var.platform
  resource_group_id = var.resource_group_id
  snapshot_id       = var.snapshot_id
  tags              = var.tags
}
