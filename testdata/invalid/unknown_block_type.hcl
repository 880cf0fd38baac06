resorce "alicloud_image" "x" { # ERROR: Unsupported block type
}
