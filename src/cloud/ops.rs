//! Typed requests and responses of the 21 ECS operations imgform uses, with the wire names of
//! the API (`shared/reference/ecs-api-facts.md` §2) and its real response shapes: every list
//! wrapped in an object (`{"Images":{"Image":[...]}}`), `Progress` as `"NN%"`,
//! `DiskDeviceMapping.Size` as a string. The local cloud serialises the same types, so one
//! definition describes the protocol for both sides.
//!
//! Response containers are required: a wrongly shaped answer (`"Images": [...]`) is a
//! decode error, never a silently empty result.

#![allow(missing_docs)]

use serde::{Deserialize, Serialize};

macro_rules! wrapper {
    ($name:ident, $key:literal, $item:ty) => {
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            #[serde(rename = $key)]
            pub items: Vec<$item>,
        }
    };
}

/// `Tag.N.Key` / `Tag.N.Value` in requests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// A tag in responses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RespTag {
    pub tag_key: String,
    #[serde(default)]
    pub tag_value: String,
}
wrapper!(Tags, "Tag", RespTag);

/// `{ "RequestId" }`: the answer of the mutating calls without a result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Empty {
    pub request_id: String,
}

/// `Features` on CreateImage/ImportImage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Features {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvme_support: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imds_support: Option<String>,
}

// ---------------------------------------------------------------- CreateImage

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImageDisk {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImage {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub disk_device_mapping: Vec<CreateImageDisk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImageResponse {
    pub request_id: String,
    pub image_id: String,
}

// ---------------------------------------------------------------- ImportImage

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportDisk {
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: String,
    #[serde(rename = "OSSObject")]
    pub oss_object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_image_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportImage {
    pub region_id: String,
    pub disk_device_mapping: Vec<ImportDisk>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(rename = "OSType", skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportImageResponse {
    pub request_id: String,
    #[serde(default)]
    pub region_id: String,
    pub image_id: String,
    pub task_id: String,
}

// ---------------------------------------------------------------- DescribeImages

/// The full status list: without it DescribeImages returns only `Available` images.
pub const ALL_IMAGE_STATUSES: &str =
    "Creating,Waiting,Available,UnAvailable,CreateFailed,Deprecated";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImages {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_owner_alias: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(rename = "OSType", skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_owner_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_support_io_optimized: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action_type: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RespDisk {
    #[serde(default)]
    pub device: String,
    #[serde(default, rename = "Type")]
    pub disk_type: String,
    #[serde(default)]
    pub snapshot_id: String,
    /// A string in the real API.
    #[serde(default)]
    pub size: String,
    #[serde(default)]
    pub format: String,
    #[serde(default, rename = "ImportOSSBucket")]
    pub import_oss_bucket: String,
    #[serde(default, rename = "ImportOSSObject")]
    pub import_oss_object: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub remain_time: i64,
}
wrapper!(RespDisks, "DiskDeviceMapping", RespDisk);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RespFeatures {
    #[serde(default)]
    pub nvme_support: String,
    #[serde(default)]
    pub imds_support: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Image {
    pub image_id: String,
    #[serde(default)]
    pub image_name: String,
    pub status: String,
    #[serde(default)]
    pub progress: String,
    #[serde(default)]
    pub usable: bool,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub architecture: String,
    #[serde(default, rename = "OSType")]
    pub os_type: String,
    #[serde(default)]
    pub platform: String,
    #[serde(default, rename = "OSName")]
    pub os_name: String,
    #[serde(default)]
    pub boot_mode: String,
    #[serde(default)]
    pub size: i64,
    #[serde(default)]
    pub image_family: String,
    #[serde(default)]
    pub image_version: String,
    #[serde(default)]
    pub image_owner_alias: String,
    #[serde(default)]
    pub is_copied: bool,
    #[serde(default)]
    pub is_public: bool,
    #[serde(default)]
    pub license_type: String,
    #[serde(default)]
    pub resource_group_id: String,
    #[serde(default)]
    pub usage: String,
    #[serde(default)]
    pub features: Option<RespFeatures>,
    #[serde(default)]
    pub disk_device_mappings: RespDisks,
    #[serde(default)]
    pub tags: Tags,
}
wrapper!(Images, "Image", Image);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagesResponse {
    pub request_id: String,
    #[serde(default)]
    pub region_id: String,
    pub total_count: i64,
    pub page_number: i64,
    pub page_size: i64,
    pub images: Images,
}

// ---------------------------------------------------------------- Tasks

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTasks {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_ids: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_action: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_status: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub resource_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    pub task_id: String,
    #[serde(default)]
    pub task_action: String,
    pub task_status: String,
    #[serde(default)]
    pub support_cancel: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub finished_time: String,
    #[serde(default)]
    pub resource_id: String,
}
wrapper!(TaskSet, "Task", Task);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTasksResponse {
    pub request_id: String,
    #[serde(default)]
    pub region_id: String,
    pub total_count: i64,
    pub page_number: i64,
    pub page_size: i64,
    pub task_set: TaskSet,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTaskAttribute {
    pub region_id: String,
    pub task_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RelatedItem {
    pub name: String,
    pub value: String,
}
wrapper!(RelatedItemSet, "RelatedItem", RelatedItem);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct OperationProgress {
    #[serde(default)]
    pub operation_status: String,
    #[serde(default)]
    pub error_code: String,
    #[serde(default)]
    pub error_msg: String,
    #[serde(default)]
    pub related_item_set: RelatedItemSet,
}
wrapper!(OperationProgressSet, "OperationProgress", OperationProgress);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeTaskAttributeResponse {
    pub request_id: String,
    #[serde(default)]
    pub region_id: String,
    pub task_id: String,
    #[serde(default)]
    pub task_action: String,
    pub task_status: String,
    #[serde(default)]
    pub task_process: String,
    #[serde(default)]
    pub support_cancel: String,
    #[serde(default)]
    pub total_count: i64,
    #[serde(default)]
    pub success_count: i64,
    #[serde(default)]
    pub failed_count: i64,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub finished_time: String,
    #[serde(default)]
    pub operation_progress_set: OperationProgressSet,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelTask {
    pub region_id: String,
    pub task_id: String,
}

// ---------------------------------------------------------------- Pipelines

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageFeatures {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvme_support: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_features: Option<ImageFeatures>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub image_tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PipelineImportDisk {
    #[serde(rename = "OSSBucket")]
    pub oss_bucket: String,
    #[serde(rename = "OSSObject")]
    pub oss_object: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_image_size: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImportImageOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub architecture: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<String>,
    #[serde(rename = "OSType", skip_serializing_if = "Option::is_none")]
    pub os_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_imported_image: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention_strategy: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub disk_device_mappings: Vec<PipelineImportDisk>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub import_image_tags: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdvancedOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name_suffix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retain_cloud_assistant: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImagePipeline {
    pub region_id: String,
    pub base_image_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_image: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nvme_support: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub build_content: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_content: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub add_account: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub to_region_id: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_type: Option<String>,
    #[serde(rename = "VSwitchId", skip_serializing_if = "Option::is_none")]
    pub vswitch_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_disk_size: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub internet_max_bandwidth_out: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delete_instance_on_failure: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_options: Option<ImageOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub import_image_options: Option<ImportImageOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub advanced_options: Option<AdvancedOptions>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreateImagePipelineResponse {
    pub request_id: String,
    pub image_pipeline_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagePipelines {
    pub region_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub image_pipeline_id: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

wrapper!(AddAccounts, "AddAccount", String);
wrapper!(ToRegionIds, "ToRegionId", String);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pipeline {
    pub image_pipeline_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub base_image_type: String,
    #[serde(default)]
    pub base_image: String,
    #[serde(default)]
    pub build_content: String,
    #[serde(default)]
    pub test_content: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub delete_instance_on_failure: bool,
    #[serde(default)]
    pub instance_type: String,
    #[serde(default)]
    pub internet_max_bandwidth_out: i64,
    #[serde(default)]
    pub system_disk_size: i64,
    #[serde(default, rename = "VSwitchId")]
    pub vswitch_id: String,
    #[serde(default)]
    pub repair_mode: String,
    #[serde(default)]
    pub resource_group_id: String,
    #[serde(default)]
    pub image_name: String,
    #[serde(default)]
    pub image_family: String,
    #[serde(default)]
    pub add_accounts: AddAccounts,
    #[serde(default)]
    pub to_region_ids: ToRegionIds,
    #[serde(default)]
    pub tags: Tags,
}
wrapper!(PipelineSet, "ImagePipelineSet", Pipeline);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagePipelinesResponse {
    pub request_id: String,
    pub total_count: i64,
    pub max_results: i64,
    #[serde(default)]
    pub next_token: String,
    pub image_pipeline: PipelineSet,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartImagePipelineExecution {
    pub region_id: String,
    pub image_pipeline_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag: Vec<Tag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartImagePipelineExecutionResponse {
    pub request_id: String,
    pub execution_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagePipelineExecutions {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_pipeline_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub execution_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Execution {
    pub execution_id: String,
    #[serde(default)]
    pub image_pipeline_id: String,
    pub status: String,
    #[serde(default)]
    pub image_id: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub modified_time: String,
    #[serde(default)]
    pub resource_group_id: String,
    #[serde(default)]
    pub tags: Tags,
}
wrapper!(ExecutionSet, "ImagePipelineExecutionSet", Execution);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeImagePipelineExecutionsResponse {
    pub request_id: String,
    pub total_count: i64,
    pub max_results: i64,
    #[serde(default)]
    pub next_token: String,
    pub image_pipeline_execution: ExecutionSet,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelImagePipelineExecution {
    pub region_id: String,
    pub execution_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImagePipeline {
    pub region_id: String,
    pub image_pipeline_id: String,
}

// ---------------------------------------------------------------- Image attribute changes

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ModifyImageAttribute {
    pub region_id: String,
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_family: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_mode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub license_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub features: Option<Features>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResources {
    pub region_id: String,
    pub resource_type: String,
    pub resource_id: Vec<String>,
    pub tag: Vec<Tag>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResources {
    pub region_id: String,
    pub resource_type: String,
    pub resource_id: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub tag_key: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub all: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct JoinResourceGroup {
    pub region_id: String,
    pub resource_id: String,
    pub resource_group_id: String,
    pub resource_type: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteImage {
    pub region_id: String,
    pub image_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub force: Option<bool>,
}

// ---------------------------------------------------------------- Regions

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRegions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept_language: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Region {
    pub region_id: String,
    #[serde(default)]
    pub local_name: String,
    #[serde(default)]
    pub region_endpoint: String,
    #[serde(default)]
    pub status: String,
}
wrapper!(Regions, "Region", Region);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeRegionsResponse {
    pub request_id: String,
    pub regions: Regions,
}

// ---------------------------------------------------------------- What images are made from

/// DescribeSnapshots by id: `SnapshotIds` is a JSON array of up to 100 ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSnapshots {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub snapshot_ids: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Snapshot {
    pub snapshot_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub progress: String,
    /// `2025-06-01T00:00:00Z`.
    #[serde(default)]
    pub creation_time: String,
    #[serde(default)]
    pub source_disk_id: String,
    /// `System` or `Data` (the local cloud and older answers write them in lower case).
    #[serde(default)]
    pub source_disk_type: String,
}
wrapper!(Snapshots, "Snapshot", Snapshot);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeSnapshotsResponse {
    pub request_id: String,
    #[serde(default)]
    pub total_count: i64,
    pub snapshots: Snapshots,
}

/// DescribeInstances by id: `InstanceIds` is a JSON array of up to 100 ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstances {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance_ids: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
}

/// One lock of `OperationLocks`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Lock {
    #[serde(default)]
    pub lock_reason: String,
}
wrapper!(Locks, "LockReason", Lock);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Instance {
    pub instance_id: String,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub operation_locks: Locks,
}
wrapper!(Instances, "Instance", Instance);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeInstancesResponse {
    pub request_id: String,
    #[serde(default)]
    pub total_count: i64,
    pub instances: Instances,
}

/// DescribeDisks by id: `DiskIds` is a JSON array of up to 100 ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDisks {
    pub region_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disk_ids: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_number: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Disk {
    pub disk_id: String,
    /// `system` or `data`: a released instance's system disk is kept as a data disk.
    #[serde(default, rename = "Type")]
    pub disk_type: String,
    /// Empty when the disk is attached to no instance.
    #[serde(default)]
    pub instance_id: String,
    #[serde(default)]
    pub status: String,
}
wrapper!(Disks, "Disk", Disk);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeDisksResponse {
    pub request_id: String,
    #[serde(default)]
    pub total_count: i64,
    pub disks: Disks,
}

/// Parses `Progress` leniently: `"50%"`, `"50"`, `""` (0).
pub fn parse_progress(p: &str) -> u8 {
    p.trim()
        .trim_end_matches('%')
        .trim()
        .parse::<f64>()
        .map(|v| v.clamp(0.0, 100.0) as u8)
        .unwrap_or(0)
}

/// Flattens a request into RPC parameters: objects become `Prefix.Key`, lists `Prefix.N`
/// (1-based), booleans `true`/`false`, numbers decimal; absent values are omitted.
pub fn flatten<T: Serialize>(req: &T) -> Vec<(String, String)> {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        let key = |k: &str| {
            if prefix.is_empty() {
                k.to_string()
            } else {
                format!("{prefix}.{k}")
            }
        };
        match v {
            serde_json::Value::Null => {}
            serde_json::Value::Bool(b) => out.push((prefix.to_string(), b.to_string())),
            serde_json::Value::Number(n) => out.push((prefix.to_string(), n.to_string())),
            serde_json::Value::String(s) => out.push((prefix.to_string(), s.clone())),
            serde_json::Value::Array(a) => {
                for (i, e) in a.iter().enumerate() {
                    walk(&key(&(i + 1).to_string()), e, out);
                }
            }
            serde_json::Value::Object(m) => {
                for (k, e) in m {
                    walk(&key(k), e, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(
        "",
        &serde_json::to_value(req).expect("request types serialise"),
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_like_the_sdks() {
        let req = CreateImage {
            region_id: "cn-hangzhou".into(),
            disk_device_mapping: vec![
                CreateImageDisk {
                    snapshot_id: Some("s-1".into()),
                    size: Some(40),
                    device: Some("/dev/xvda".into()),
                    disk_type: Some("system".into()),
                },
                CreateImageDisk {
                    snapshot_id: Some("s-2".into()),
                    ..Default::default()
                },
            ],
            tag: vec![Tag {
                key: "env".into(),
                value: "prod".into(),
            }],
            features: Some(Features {
                imds_support: Some("v2".into()),
                nvme_support: None,
            }),
            ..Default::default()
        };
        let got = flatten(&req);
        let want: Vec<(String, String)> = [
            ("RegionId", "cn-hangzhou"),
            ("DiskDeviceMapping.1.SnapshotId", "s-1"),
            ("DiskDeviceMapping.1.Size", "40"),
            ("DiskDeviceMapping.1.Device", "/dev/xvda"),
            ("DiskDeviceMapping.1.DiskType", "system"),
            ("DiskDeviceMapping.2.SnapshotId", "s-2"),
            ("Features.ImdsSupport", "v2"),
            ("Tag.1.Key", "env"),
            ("Tag.1.Value", "prod"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(got, want);
        let p = CreateImagePipeline {
            region_id: "r".into(),
            base_image_type: "OSS".into(),
            to_region_id: vec!["cn-beijing".into()],
            delete_instance_on_failure: Some(false),
            import_image_options: Some(ImportImageOptions {
                disk_device_mappings: vec![PipelineImportDisk {
                    oss_bucket: "b".into(),
                    oss_object: "o".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let got = flatten(&p);
        assert!(got.contains(&(
            "ImportImageOptions.DiskDeviceMappings.1.OSSObject".into(),
            "o".into()
        )));
        assert!(got.contains(&("ToRegionId.1".into(), "cn-beijing".into())));
        assert!(got.contains(&("DeleteInstanceOnFailure".into(), "false".into())));
    }

    #[test]
    fn wrongly_shaped_answers_are_errors() {
        let ok = r#"{"RequestId":"r","TotalCount":1,"PageNumber":1,"PageSize":10,"Images":{"Image":[{"ImageId":"m-1","Status":"Available","Progress":"100%","DiskDeviceMappings":{"DiskDeviceMapping":[{"Size":"40"}]}}]}}"#;
        let r: DescribeImagesResponse = serde_json::from_str(ok).expect("real shape");
        assert_eq!(r.images.items[0].disk_device_mappings.items[0].size, "40");
        let flat = r#"{"RequestId":"r","TotalCount":1,"PageNumber":1,"PageSize":10,"Images":[{"ImageId":"m-1","Status":"Available"}]}"#;
        assert!(serde_json::from_str::<DescribeImagesResponse>(flat).is_err());
        assert!(serde_json::from_str::<DescribeImagesResponse>("{}").is_err());
        assert_eq!(parse_progress("45%"), 45);
        assert_eq!(parse_progress(""), 0);
        assert_eq!(parse_progress("100"), 100);
    }
}
