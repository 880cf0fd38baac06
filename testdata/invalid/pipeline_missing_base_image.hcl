resource "alicloud_ecs_image_pipeline" "x" { # ERROR: Missing base_image
  base_image_type = "IMAGE"
}
