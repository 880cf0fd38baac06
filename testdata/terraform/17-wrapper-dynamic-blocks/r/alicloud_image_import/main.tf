variable "image_name" {
  type    = string
  default = null
}

variable "os_type" {
  type    = string
  default = null
}

variable "platform" {
  type    = string
  default = null
}

variable "disk_device_mapping" {
  description = "nested block: NestingList, min items: 1"
  type = set(object({
    device          = string
    disk_image_size = number
    format          = string
    oss_bucket      = string
    oss_object      = string
  }))
}

variable "timeouts" {
  description = "nested block: NestingSingle, min items: 0, max items: 0"
  type = set(object({
    create = string
    delete = string
  }))
  default = []
}

resource "alicloud_image_import" "this" {
  image_name = var.image_name
  os_type    = var.os_type
  platform   = var.platform

  dynamic "disk_device_mapping" {
    for_each = var.disk_device_mapping
    content {
      device          = disk_device_mapping.value["device"]
      disk_image_size = disk_device_mapping.value["disk_image_size"]
      format          = disk_device_mapping.value["format"]
      oss_bucket      = disk_device_mapping.value["oss_bucket"]
      oss_object      = disk_device_mapping.value["oss_object"]
    }
  }

  dynamic "timeouts" {
    for_each = var.timeouts
    content {
      create = timeouts.value["create"]
      delete = timeouts.value["delete"]
    }
  }
}

output "id" {
  value = alicloud_image_import.this.id
}
