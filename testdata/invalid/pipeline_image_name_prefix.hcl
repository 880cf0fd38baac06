resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  image_name = "ppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppppp" # ERROR: Invalid value for `image_name`
}
