//! `dynamic` blocks: for_each over lists and maps, `iterator`, nested dynamic blocks that
//! read the outer iterator, and diagnostics at the lines of the content they come from.

use imgform::config::check::Evaluated;

fn check(text: &str) -> (Option<Evaluated>, String) {
    crate::util::check_config(text)
}

#[test]
fn a_dynamic_block_makes_one_block_per_element_with_its_iterator() {
    let (ev, human) = check(
        r#"
variable "disks" {
  default = {
    system = { object = "sys.qcow2", size = 20 }
    data   = { object = "data.qcow2", size = 40 }
  }
}

resource "alicloud_image_import" "u" {
  image_name   = "dyn"
  architecture = "x86_64"
  os_type      = "linux"
  platform     = "Ubuntu"

  dynamic "disk_device_mapping" {
    for_each = var.disks
    iterator = disk
    content {
      oss_bucket      = "bucket"
      oss_object      = "${disk.key}/${disk.value.object}"
      format          = "QCOW2"
      disk_image_size = disk.value.size
    }
  }
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    let inst = ev.instances.values().next().expect("instance");
    let blocks: Vec<(String, String)> = inst
        .body
        .blocks
        .iter()
        .map(|b| {
            (
                b.ident.clone(),
                b.body.attrs["oss_object"]
                    .value
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    // A map's elements in key order; without `iterator` the block type names it.
    assert_eq!(
        blocks,
        [
            ("disk_device_mapping".into(), "data/data.qcow2".into()),
            ("disk_device_mapping".into(), "system/sys.qcow2".into())
        ]
    );
    assert_eq!(
        inst.body.blocks[1].body.attrs["disk_image_size"].value,
        imgform::value::Value::Number(20.0)
    );
}

#[test]
fn nested_dynamic_blocks_read_the_outer_iterator() {
    let (ev, human) = check(
        r#"
locals {
  imports = [{
    os    = "linux"
    disks = ["a.raw", "b.raw"]
  }]
}

resource "alicloud_ecs_image_pipeline" "p" {
  name            = "nested"
  base_image_type = "OSS"
  instance_type   = "ecs.g7.large"

  dynamic "import_image_options" {
    for_each = local.imports
    content {
      os_type      = import_image_options.value.os
      architecture = "x86_64"
      dynamic "disk_device_mappings" {
        for_each = import_image_options.value.disks
        iterator = d
        content {
          oss_bucket = "bucket"
          oss_object = "${import_image_options.key}-${d.value}"
        }
      }
    }
  }
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    let inst = ev.instances.values().next().expect("instance");
    let opts = &inst.body.blocks[0];
    assert_eq!(opts.ident, "import_image_options");
    assert_eq!(opts.body.attrs["os_type"].value.as_str(), Some("linux"));
    let objects: Vec<&str> = opts
        .body
        .blocks
        .iter()
        .map(|b| {
            b.body.attrs["oss_object"]
                .value
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(objects, ["0-a.raw", "0-b.raw"]);
}

#[test]
fn a_rule_broken_inside_dynamic_content_points_at_the_content_line() {
    let (ev, human) = check(
        r#"
resource "alicloud_image_import" "u" {
  image_name   = "dyn"
  architecture = "x86_64"
  os_type      = "linux"

  dynamic "disk_device_mapping" {
    for_each = ["VHDX"]
    content {
      oss_bucket = "bucket"
      oss_object = "x"
      format     = disk_device_mapping.value
    }
  }

  dynamic "disk_device_mapping" {
    for_each = 42
    content {
      oss_bucket = "bucket"
    }
  }
}
"#,
    );
    assert!(ev.is_none());
    insta::assert_snapshot!("dynamic_errors", human);
}

#[test]
fn a_dynamic_timeouts_block_sets_the_timeouts_and_null_keeps_the_default() {
    let (ev, human) = check(
        r#"
variable "timeouts" {
  default = [{ create = "30m", delete = null }]
}

resource "alicloud_image" "x" {
  snapshot_id = "s-bp1system0001"

  dynamic "timeouts" {
    for_each = var.timeouts
    content {
      create = timeouts.value["create"]
      delete = timeouts.value["delete"]
    }
  }
}
"#,
    );
    let ev = ev.unwrap_or_else(|| panic!("{human}"));
    let r = ev.config.resources.values().next().expect("resource");
    assert_eq!(r.timeouts.create, Some(1800));
    assert_eq!(r.timeouts.delete, None);
}
