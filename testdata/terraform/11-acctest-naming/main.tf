# Pattern: the acceptance tests' shape: a `name` variable with a generated default, a
# resource called `default`, tags naming the test, and the same name reused by a second
# resource through string templates. Source: aliyun/terraform-provider-alicloud,
# alicloud/resource_alicloud_ecs_image_component_test.go and resource_alicloud_image_test.go.
provider "alicloud" {
  region = "cn-hangzhou"
}

variable "name" {
  default = "tf-testAccEcsImageComponent64792"
}

resource "alicloud_ecs_image_component" "default" {
  image_component_name = var.name
  component_type       = "Build"
  system_type          = "Linux"
  content              = "RUN yum update -y"
  description          = "${var.name}_description"
  tags = {
    Created = "tfTestAcc0"
    For     = "Tftestacc 0"
  }
}

resource "alicloud_image" "default" {
  snapshot_id = "s-bp1system0001"
  image_name  = "${var.name}-image"
  description = "${var.name} image"
  tags = {
    Created = "tfTestAcc0"
  }
}
