resource "alicloud_imag" "x" { # ERROR: Unsupported resource type
}
