resource "alicloud_ecs_image_pipeline" "x" {
  base_image_type = "IMAGE"
  base_image      = "m-abc"
  to_region_id = ["cn-r0", "cn-r1", "cn-r2", "cn-r3", "cn-r4", "cn-r5", "cn-r6", "cn-r7", "cn-r8", "cn-r9", "cn-r10", "cn-r11", "cn-r12", "cn-r13", "cn-r14", "cn-r15", "cn-r16", "cn-r17", "cn-r18", "cn-r19", "cn-r20"] # ERROR: Invalid value for `to_region_id`
}
