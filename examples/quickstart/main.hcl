# imgform quickstart: one image from a snapshot, one image imported from OSS, and an
# Image Builder pipeline that builds on the imported image.
#
#   imgform --cloud local -C examples/quickstart apply --auto-approve
#
# The local cloud is seeded with the snapshot and the OSS object named below.

variable "env" {
  type        = string
  default     = "dev"
  description = "Environment name, used in image names and tags."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.env)
    error_message = "env must be dev, staging or prod."
  }
}

locals {
  tags = {
    env        = var.env
    managed_by = "imgform"
  }
}

provider "alicloud" {
  region = "cn-hangzhou"
}

# A custom image from the system disk snapshot of a configured web server.
resource "alicloud_image" "web" {
  image_name   = "web-${var.env}"
  description  = "Web server image for ${var.env}"
  snapshot_id  = "s-bp1qs0000000000web"
  architecture = "x86_64"
  platform     = "Ubuntu"
  tags         = local.tags
}

# An Ubuntu disk image uploaded to OSS, imported as a custom image.
resource "alicloud_image_import" "ubuntu" {
  image_name   = "ubuntu-22-04-${var.env}"
  description  = "Ubuntu 22.04 imported from OSS"
  architecture = "x86_64"
  os_type      = "linux"
  platform     = "Ubuntu"
  license_type = "Auto"
  tags         = local.tags

  disk_device_mapping {
    oss_bucket      = "imgform-quickstart"
    oss_object      = "images/ubuntu-22.04.qcow2"
    format          = "QCOW2"
    disk_image_size = 20
  }
}

# A pipeline that hardens the imported image.
resource "alicloud_ecs_image_pipeline" "hardened" {
  name             = "hardened-${var.env}"
  base_image_type  = "IMAGE"
  base_image       = alicloud_image_import.ubuntu.id
  description      = "Hardened Ubuntu"
  build_content    = <<-EOT
    RUN apt-get update -y
    RUN apt-get install -y unattended-upgrades
  EOT
  system_disk_size = 40
  tags             = local.tags
}

output "web_image_id" {
  value       = alicloud_image.web.id
  description = "The id of the web image."
}
