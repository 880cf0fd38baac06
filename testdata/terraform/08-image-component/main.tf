# Pattern: an Image Builder component with a heredoc of build commands. Source:
# aliyun/terraform-provider-alicloud, website/docs/r/ecs_image_component.html.markdown.
provider "alicloud" {
  region = "cn-hangzhou"
}

resource "alicloud_ecs_image_component" "example" {
  component_type       = "Build"
  content              = "RUN yum update -y"
  description          = "example_value"
  image_component_name = "example_value"
  resource_group_id    = "rg-default"
  system_type          = "Linux"
  tags = {
    Created = "TF"
  }
}
