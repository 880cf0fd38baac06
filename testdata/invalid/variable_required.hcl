variable "snap" { # ERROR: No value for required variable
  type = string
}
