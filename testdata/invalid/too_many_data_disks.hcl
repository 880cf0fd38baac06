resource "alicloud_image" "x" {
  disk_device_mapping {
    snapshot_id = "s-sys"
    disk_type   = "system"
  }
  disk_device_mapping {
    snapshot_id = "s-d0"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d1"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d2"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d3"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d4"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d5"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d6"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d7"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d8"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d9"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d10"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d11"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d12"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d13"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d14"
    disk_type   = "data"
  }
  disk_device_mapping {
    snapshot_id = "s-d15"
    disk_type   = "data"
  }
  disk_device_mapping { # ERROR: Too many data disks
    snapshot_id = "s-d16"
    disk_type   = "data"
  }
}
