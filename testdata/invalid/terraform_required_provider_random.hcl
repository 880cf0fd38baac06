terraform {
  required_providers {
    alicloud = {
      source = "aliyun/alicloud"
    }
    random = { # ERROR: Unsupported provider
      source = "hashicorp/random"
    }
  }
}
