variable "env" {
  default = "qa" # ERROR: Invalid value for variable
  validation {
    condition     = contains(["dev", "prod"], var.env)
    error_message = "env must be dev or prod."
  }
}
