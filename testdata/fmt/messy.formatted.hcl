# A messy file: odd indentation, unaligned =, runs of blank lines, comments everywhere.
variable "env" {
  default = "dev" # the default
  type    = string
}



resource "alicloud_image" "web" { # the web image
  image_name  = "web-${var.env}"
  snapshot_id = "s-abc123"
  # tags follow
  tags = {
    env = var.env
  }
  lifecycle { prevent_destroy = true }
  timeouts {
  }
}
