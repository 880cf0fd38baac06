# Pattern: a module call written as a template of every argument, unused ones explicitly
# null, nested blocks passed as lists of objects. Source: niveklabs/tfwriter,
# alicloud/r/alicloud_image.md (Example Usage).
provider "alicloud" {
  region = "cn-hangzhou"
}

module "alicloud_image" {
  source = "./modules/alicloud/r/alicloud_image"

  # architecture - (optional) is a type of string
  architecture = null
  # description - (optional) is a type of string
  description = "from the tfwriter template"
  # image_name - (optional) is a type of string
  image_name = "tfwriter-image"
  # instance_id - (optional) is a type of string
  instance_id = null

  disk_device_mapping = [{
    disk_type   = "system"
    size        = 40
    snapshot_id = "s-bp1system0002"
  }]
}
