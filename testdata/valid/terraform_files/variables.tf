variable "region" {
  type    = string
  default = "cn-hangzhou"
}

variable "name" {
  type = string
}

variable "team" {
  type    = string
  default = "default-team"
}

variable "env" {
  type    = string
  default = "dev"
}
