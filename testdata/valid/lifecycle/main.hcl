# The lifecycle kinds as the provider's docs and public modules write them: a copy with
# provider aliases, a share by account id from a variable, an export to a bucket, a
# component, and the data sources with the arguments public code passes (owners = "",
# output_file, name_regex).

variable "another_uid" {
  default = "123456789"
}

provider "alicloud" {
  alias  = "hz"
  region = "cn-hangzhou"
}

provider "alicloud" {
  alias  = "sh"
  region = "cn-shanghai"
}

data "alicloud_images" "default" {
  provider    = alicloud.hz
  name_regex  = "^ubuntu_18.*64"
  owners      = ""
  output_file = "images.txt"
}

data "alicloud_ecs_image_components" "mine" {
  provider   = alicloud.hz
  name_regex = "^my-ImageComponent"
  owner      = "SELF"
}

data "alicloud_ecs_image_pipelines" "named" {
  provider = alicloud.hz
  name     = "my-pipeline"
}

resource "alicloud_image" "default" {
  provider    = alicloud.hz
  snapshot_id = "s-bp1system0001"
  image_name  = "terraform-example"
  description = "terraform-example"
}

resource "alicloud_image_copy" "default" {
  provider         = alicloud.sh
  source_image_id  = alicloud_image.default.id
  source_region_id = "cn-hangzhou"
  image_name       = "terraform-example"
  description      = "terraform-example"
  force            = true
  tags = {
    FinanceDept = "FinanceDeptJoshua"
  }
}

resource "alicloud_image_share_permission" "default" {
  provider   = alicloud.hz
  image_id   = alicloud_image.default.id
  account_id = var.another_uid
}

resource "alicloud_image_export" "default" {
  provider   = alicloud.hz
  image_id   = alicloud_image.default.id
  oss_bucket = "example-value-12345"
  oss_prefix = "ecsExport"
}

resource "alicloud_ecs_image_component" "example" {
  provider             = alicloud.hz
  component_type       = "Build"
  content              = "RUN yum update -y"
  description          = "example_value"
  image_component_name = "example_value"
  system_type          = "Linux"
  tags = {
    Created = "TF"
  }
}
