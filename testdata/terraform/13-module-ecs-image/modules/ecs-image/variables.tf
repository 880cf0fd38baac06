variable "create_image_with_snapshot" {
  type    = bool
  default = false
}

variable "snapshot_id" {
  type    = string
  default = ""
}

variable "image_name" {
  type    = string
  default = ""
}

variable "import_image" {
  type    = bool
  default = false
}

variable "oss_bucket" {
  type    = string
  default = ""
}

variable "oss_object" {
  type    = string
  default = ""
}

variable "tags" {
  type    = map(string)
  default = {}
}
