variable "size" {
  type = strng # ERROR: Invalid type specification
}
