# Pattern: versions.tf with required_version and required_providers (source and version
# constraint), the provider's region from a variable. Source: aliyun/terraform-provider-alicloud,
# website/docs/index.html.markdown (Example Usage), and every module's versions.tf.
terraform {
  required_version = ">= 1.3"

  required_providers {
    alicloud = {
      source  = "aliyun/alicloud"
      version = ">= 1.163.0"
    }
  }
}
