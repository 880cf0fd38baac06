# Pattern: variable validation with can(regex(...)) and contains(), as modules check their
# inputs. Source: Terraform language docs, "Custom Validation Rules".
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "snapshot_id" {
  type    = string
  default = "s-bp1system0001"

  validation {
    condition     = can(regex("^s-[a-z0-9]+$", var.snapshot_id))
    error_message = "The snapshot_id must look like s-xxxxxxxx."
  }
}

variable "architecture" {
  type    = string
  default = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64", "i386"], var.architecture)
    error_message = "Unsupported architecture."
  }
}

resource "alicloud_image" "validated" {
  snapshot_id  = var.snapshot_id
  image_name   = "validated"
  architecture = var.architecture
}
