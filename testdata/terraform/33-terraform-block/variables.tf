variable "region" {
  default = "cn-hangzhou"
}
