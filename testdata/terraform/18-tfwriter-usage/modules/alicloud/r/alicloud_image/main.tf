variable "architecture" {
  type    = string
  default = null
}

variable "description" {
  type    = string
  default = null
}

variable "image_name" {
  type    = string
  default = null
}

variable "instance_id" {
  type    = string
  default = null
}

variable "disk_device_mapping" {
  type = list(object({
    disk_type   = string
    size        = number
    snapshot_id = string
  }))
  default = []
}

resource "alicloud_image" "this" {
  architecture = var.architecture
  description  = var.description
  image_name   = var.image_name
  instance_id  = var.instance_id

  dynamic "disk_device_mapping" {
    for_each = var.disk_device_mapping
    content {
      disk_type   = disk_device_mapping.value.disk_type
      size        = disk_device_mapping.value.size
      snapshot_id = disk_device_mapping.value.snapshot_id
    }
  }
}
