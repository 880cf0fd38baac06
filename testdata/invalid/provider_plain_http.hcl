provider "alicloud" {
  endpoint = "http://ecs.example.com" # ERROR: Invalid value for `endpoint`
}
