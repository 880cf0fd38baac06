# Pattern: nested dynamic blocks: import options of a pipeline generated from a variable,
# the inner disk mappings from the outer iterator. Source: Terraform language docs,
# "dynamic Blocks" (multi-level nested block structures).
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "imports" {
  default = [{
    os    = "linux"
    disks = ["images/alinux-3.vhd"]
  }]
}

resource "alicloud_ecs_image_pipeline" "from_oss" {
  name            = "from-oss"
  base_image_type = "OSS"
  build_content   = "RUN echo imported"

  dynamic "import_image_options" {
    for_each = var.imports
    content {
      os_type      = import_image_options.value.os
      platform     = "Aliyun"
      architecture = "x86_64"
      dynamic "disk_device_mappings" {
        for_each = import_image_options.value.disks
        iterator = disk
        content {
          oss_bucket = "imgform-cn-hangzhou"
          oss_object = disk.value
          format     = "VHD"
        }
      }
    }
  }
}
