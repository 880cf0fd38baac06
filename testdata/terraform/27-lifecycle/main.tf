# Pattern: lifecycle rules on images: create_before_destroy for a replaced image, tags left
# to other tools with ignore_changes. Source: Terraform language docs, "The lifecycle
# Meta-Argument".
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_image" "golden" {
  snapshot_id = "s-bp1system0001"
  image_name  = "lifecycle-golden"
  tags        = { Owner = "platform" }

  lifecycle {
    create_before_destroy = true
    ignore_changes        = [tags]
  }
}
