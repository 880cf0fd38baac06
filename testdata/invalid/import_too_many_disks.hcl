resource "alicloud_image_import" "x" {
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk0.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk1.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk2.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk3.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk4.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk5.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk6.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk7.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk8.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk9.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk10.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk11.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk12.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk13.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk14.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk15.raw"
  }
  disk_device_mapping {
    oss_bucket = "my-bucket"
    oss_object = "disk16.raw"
  }
  disk_device_mapping { # ERROR: Wrong number of blocks
    oss_bucket = "my-bucket"
    oss_object = "disk17.raw"
  }
}
