variable "env" {
  type = string
}

output "name" {
  value = "golden-${var.env}"
}

output "tags" {
  value = { Environment = var.env }
}
