terraform {
  backend "s3" { # ERROR: Unsupported backend
    bucket = "tfstate"
  }
}
