# A configuration for the Terraform-JSON consumer check in .ci/run: terraform-compliance
# reads the plan JSON (`imgform show plan.bin --json`) and must find exactly the one image
# without an owner tag.

provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "tagged" {
  image_name  = "policy-tagged"
  snapshot_id = "s-bp1qs0000000000web"
  tags = {
    owner = "platform"
  }
}

resource "alicloud_image" "untagged" {
  image_name  = "policy-untagged"
  snapshot_id = "s-bp1qs0000000000web"
}
