resource "alicloud_ecs_image_pipeline" "x" { # ERROR: Missing required argument
  base_image = "m-abc"
}
