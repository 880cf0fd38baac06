variable "from_default" {
  default = "default"
}
variable "from_vars_file" {
  default = "default"
}
variable "from_auto" {
  default = "default"
}
variable "from_var_file" {
  default = "default"
}
variable "from_cli" {
  default = "default"
}
variable "from_env" {
  default = "default"
}
variable "disks" {
  type    = list(object({ size = number, name = optional(string) }))
  default = []
}

output "all" {
  value = [var.from_default, var.from_vars_file, var.from_auto, var.from_var_file, var.from_cli, var.from_env]
}
