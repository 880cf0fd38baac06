provider "alicloud" {
  region = "Hangzhou" # ERROR: Invalid value for `region`
}
