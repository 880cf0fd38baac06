# Pattern: values from terraform.tfvars and *.auto.tfvars over the variables' defaults.
# Source: Terraform language docs, "Input Variables" (developer.hashicorp.com/terraform/
# language/values/variables, Variable Definition Precedence).
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "image_name" {
  default = "from-default"
}

variable "env" {
  default = "dev"
}

resource "alicloud_image" "this" {
  snapshot_id = "s-bp1system0001"
  image_name  = var.image_name
  tags        = { Env = var.env }
}
