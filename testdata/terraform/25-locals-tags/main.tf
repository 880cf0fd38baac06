# Pattern: common tags in locals merged per resource, lookup() with a default, a conditional
# description. Source: Terraform language docs, "Local Values", and the tag conventions of
# alibabacloud-automation modules.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "environment" {
  default = "staging"
}

locals {
  common_tags = {
    Project     = "images"
    Environment = var.environment
    ManagedBy   = "terraform"
  }
  owners = {
    staging = "qa-team"
  }
}

resource "alicloud_image" "app" {
  snapshot_id = "s-bp1system0001"
  image_name  = "app-${var.environment}"
  description = var.environment == "prod" ? "production image" : "pre-production image"
  tags = merge(local.common_tags, {
    Owner = lookup(local.owners, var.environment, "platform")
  })
}
