output "this_create_image_ids" {
  value = alicloud_image.with_snapshot[*].id
}

output "this_import_image_name" {
  value = concat(alicloud_image_import.this[*].image_name, [""])[0]
}
