//! The local cloud through imgform's own client: every error code of the three seed pages
//! that parameters or the world can trigger, ClientToken idempotency, life cycles driven by
//! the simulated clock, persistence across restarts, stats and faults.

use imgform::cloud::client::{Client, ClientConfig, Scheme};
use imgform::cloud::creds::Credentials;
use imgform::cloud::ops;
use imgform::localcloud::{self, Faults, Handle, Options};
use std::time::Duration;

pub async fn start(opts: Options) -> (Handle, Client) {
    let h = localcloud::start(opts).await.expect("starts");
    let c = client(&h.endpoint(), 0);
    (h, c)
}

pub fn client(endpoint: &str, retries: u32) -> Client {
    Client::new(ClientConfig {
        region: "cn-hangzhou".into(),
        endpoint: Some(endpoint.into()),
        credentials: Credentials {
            access_key_id: localcloud::DEFAULT_KEY_ID.into(),
            access_key_secret: localcloud::DEFAULT_SECRET.into(),
            security_token: None,
            source: "test".into(),
        },
        scheme: Scheme::V3,
        max_retries: retries,
        timeout: Duration::from_secs(10),
    })
    .expect("client")
}

fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn image_status(c: &Client, id: &str) -> (String, String, bool) {
    let imgs = c
        .describe_images_by_ids(&[id.to_string()])
        .await
        .expect("describe");
    let i = imgs.first().expect("found");
    (i.status.clone(), i.progress.clone(), i.usable)
}

/// (name, action, parameters, expected code, expected HTTP status).
type Case = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
    &'static str,
    u16,
);

const HZ: (&str, &str) = ("RegionId", "cn-hangzhou");
const BJ: (&str, &str) = ("RegionId", "cn-beijing");

#[tokio::test]
async fn every_triggerable_error_code_of_the_seed_pages() {
    let (h, c) = start(Options::default()).await;
    {
        let mut g = h.cloud.lock().expect("lock");
        g.seed_from(&serde_json::json!({"regions": {
            "cn-beijing": {"image_quota": 0, "pipeline_quota": 0, "oss_role_authorized": false},
            "cn-hangzhou": {"instances": [{"id": "i-nosystemdisk", "status": "Running", "disks": [{"id": "d-x", "type": "data", "size": 10}]}]}
        }}))
        .expect("seed");
    }
    // Objects some cases need: an image being created, an import in progress.
    let creating = c
        .call_raw(
            "CreateImage",
            p(&[
                HZ,
                ("SnapshotId", "s-bp1system0001"),
                ("ImageName", "taken"),
            ]),
            None,
        )
        .await
        .expect("create");
    let creating = creating["ImageId"].as_str().expect("id").to_string();
    let imp = c
        .call_raw(
            "ImportImage",
            p(&[
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.1.OSSObject", "images/debian-12.raw"),
            ]),
            None,
        )
        .await
        .expect("import");
    let importing = imp["ImageId"].as_str().expect("id").to_string();
    let snap = ("SnapshotId", "s-bp1system0001");
    let oss = [
        ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
        ("DiskDeviceMapping.1.OSSObject", "images/ubuntu-22.04.qcow2"),
    ];
    let imp_with = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![HZ, oss[0], oss[1]];
        v.extend_from_slice(extra);
        v
    };
    let pipe = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![
            HZ,
            ("BaseImageType", "IMAGE"),
            ("BaseImage", "ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
        ];
        v.extend_from_slice(extra);
        v
    };
    let oss_pipe = |extra: &[(&'static str, &'static str)]| {
        let mut v = vec![
            HZ,
            ("BaseImageType", "OSS"),
            (
                "ImportImageOptions.DiskDeviceMappings.1.OSSBucket",
                "imgform-quickstart",
            ),
            (
                "ImportImageOptions.DiskDeviceMappings.1.OSSObject",
                "images/ubuntu-22.04.qcow2",
            ),
        ];
        v.extend_from_slice(extra);
        v
    };
    let long_name: &'static str = Box::leak("a".repeat(129).into_boxed_str());
    let big_content: &'static str = Box::leak("RUN x\n".repeat(3000).into_boxed_str());
    let many_cmds: &'static str = Box::leak("RUN x\n".repeat(128).into_boxed_str());
    let mut cases: Vec<Case> = vec![
        // CreateImage
        (
            "create: no source",
            "CreateImage",
            vec![HZ],
            "MissingParameter",
            400,
        ),
        (
            "create: name",
            "CreateImage",
            vec![HZ, snap, ("ImageName", "1bad")],
            "InvalidImageName.Malformed",
            400,
        ),
        (
            "create: long name",
            "CreateImage",
            vec![HZ, snap, ("ImageName", long_name)],
            "InvalidImageName.Malformed",
            400,
        ),
        (
            "create: duplicate name",
            "CreateImage",
            vec![HZ, snap, ("ImageName", "taken")],
            "InvalidImageName.Duplicated",
            400,
        ),
        (
            "create: description",
            "CreateImage",
            vec![HZ, snap, ("Description", "http://x")],
            "InvalidDescription.Malformed",
            400,
        ),
        (
            "create: family",
            "CreateImage",
            vec![HZ, snap, ("ImageFamily", "acs:fam")],
            "InvalidImageFamily.Malformed",
            400,
        ),
        (
            "create: architecture",
            "CreateImage",
            vec![HZ, snap, ("Architecture", "amd64")],
            "InvalidArchitecture.Malformed",
            400,
        ),
        (
            "create: platform",
            "CreateImage",
            vec![HZ, snap, ("Platform", "Windows 7")],
            "InvalidPlatform.Malformed",
            400,
        ),
        (
            "create: boot mode",
            "CreateImage",
            vec![HZ, snap, ("BootMode", "Legacy")],
            "InvalidBootMode.Malformed",
            400,
        ),
        (
            "create: boot mode for i386",
            "CreateImage",
            vec![HZ, snap, ("Architecture", "i386"), ("BootMode", "UEFI")],
            "InvalidBootMode.NotSupport",
            400,
        ),
        (
            "create: detection",
            "CreateImage",
            vec![HZ, snap, ("DetectionStrategy", "Deep")],
            "InvalidDetectionStrategy.Malformed",
            400,
        ),
        (
            "create: imds",
            "CreateImage",
            vec![HZ, snap, ("Features.ImdsSupport", "v3")],
            "InvalidParameter.FeaturesImdsSupport",
            400,
        ),
        (
            "create: duplicate tag",
            "CreateImage",
            vec![HZ, snap, ("Tag.1.Key", "a"), ("Tag.2.Key", "a")],
            "Duplicate.TagKey",
            400,
        ),
        (
            "create: tag key",
            "CreateImage",
            vec![HZ, snap, ("Tag.1.Key", "acs:x")],
            "InvalidTagKey.Malformed",
            400,
        ),
        (
            "create: tag value",
            "CreateImage",
            vec![HZ, snap, ("Tag.1.Key", "k"), ("Tag.1.Value", "http://x")],
            "InvalidTagValue.Malformed",
            400,
        ),
        (
            "create: instance status",
            "CreateImage",
            vec![HZ, ("InstanceId", "i-bp1starting")],
            "IncorrectInstanceStatus",
            400,
        ),
        (
            "create: instance locked",
            "CreateImage",
            vec![HZ, ("InstanceId", "i-bp1locked")],
            "InstanceLockedForSecurity",
            400,
        ),
        (
            "create: instance missing",
            "CreateImage",
            vec![HZ, ("InstanceId", "i-nope")],
            "InvalidInstanceId.NotFound",
            404,
        ),
        (
            "create: instance without system disk",
            "CreateImage",
            vec![HZ, ("InstanceId", "i-nosystemdisk")],
            "InvalidInstance.NotFoundSystemDisk",
            400,
        ),
        (
            "create: snapshot missing",
            "CreateImage",
            vec![HZ, ("SnapshotId", "s-nope")],
            "InvalidSnapshotId.NotFound",
            404,
        ),
        (
            "create: snapshot not ready",
            "CreateImage",
            vec![HZ, ("SnapshotId", "s-bp1creating")],
            "InvalidSnapshotId.NotReady",
            403,
        ),
        (
            "create: snapshot too old",
            "CreateImage",
            vec![HZ, ("SnapshotId", "s-bp1old2013")],
            "InvalidSnapshot.TooOld",
            403,
        ),
        (
            "create: device",
            "CreateImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.SnapshotId", "s-bp1system0001"),
                ("DiskDeviceMapping.1.Device", "/dev/sda"),
            ],
            "InvalidDevice.Malformed",
            400,
        ),
        (
            "create: device in use",
            "CreateImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.SnapshotId", "s-bp1system0001"),
                ("DiskDeviceMapping.2.SnapshotId", "s-bp1data0001"),
                ("DiskDeviceMapping.2.Device", "/dev/xvdb"),
                ("DiskDeviceMapping.3.SnapshotId", "s-bp1data0002"),
                ("DiskDeviceMapping.3.Device", "/dev/xvdb"),
            ],
            "InvalidDevice.InUse",
            400,
        ),
        (
            "create: size",
            "CreateImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.SnapshotId", "s-bp1system0001"),
                ("DiskDeviceMapping.1.Size", "40000"),
            ],
            "InvalidSize.ValueNotSupported",
            400,
        ),
        (
            "create: disk type",
            "CreateImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.SnapshotId", "s-bp1system0001"),
                ("DiskDeviceMapping.1.DiskType", "root"),
            ],
            "InvalidDiskType.ValueNotSupported",
            400,
        ),
        (
            "create: no system disk",
            "CreateImage",
            vec![HZ, ("DiskDeviceMapping.1.SnapshotId", "s-bp1data0001")],
            "OperationDenied",
            400,
        ),
        (
            "create: too many tags",
            "CreateImage",
            {
                let mut v = vec![HZ, snap];
                for i in 0..21 {
                    v.push((
                        Box::leak(format!("Tag.{}.Key", i + 1).into_boxed_str()),
                        Box::leak(format!("k{i}").into_boxed_str()),
                    ));
                }
                v
            },
            "QuotaExceed.Tags",
            403,
        ),
        (
            "tag: resource type",
            "TagResources",
            vec![
                HZ,
                ("ResourceType", "instance"),
                ("ResourceId.1", "i-bp1running0001"),
                ("Tag.1.Key", "k"),
                ("Tag.1.Value", "v"),
            ],
            "InvalidResourceType.NotSupported",
            400,
        ),
        (
            "untag: resource type",
            "UntagResources",
            vec![
                HZ,
                ("ResourceType", "disk"),
                ("ResourceId.1", "d-bp1data0001"),
                ("TagKey.1", "k"),
            ],
            "InvalidResourceType.NotSupported",
            400,
        ),
        (
            "create: resource group",
            "CreateImage",
            vec![HZ, snap, ("ResourceGroupId", "rg-nope")],
            "InvalidResourceGroup.NotFound",
            404,
        ),
        (
            "create: quota",
            "CreateImage",
            vec![BJ, ("SnapshotId", "s-2zesystem0001")],
            "QuotaExceed.Image",
            403,
        ),
        (
            "create: region",
            "CreateImage",
            vec![("RegionId", "cn-nowhere"), snap],
            "InvalidRegionId.NotFound",
            404,
        ),
        (
            "create: dry run",
            "CreateImage",
            vec![HZ, snap, ("DryRun", "True")],
            "DryRunOperation",
            400,
        ),
        // ImportImage
        (
            "import: region missing",
            "ImportImage",
            vec![oss[0], oss[1]],
            "MissingParameter",
            400,
        ),
        (
            "import: no disks",
            "ImportImage",
            vec![HZ],
            "MissingParameter.DiskDeviceMapping",
            403,
        ),
        (
            "import: name",
            "ImportImage",
            imp_with(&[("ImageName", "aliyun-x")]),
            "InvalidImageName.Malformed",
            400,
        ),
        (
            "import: duplicate name",
            "ImportImage",
            imp_with(&[("ImageName", "taken")]),
            "InvalidImageName.Duplicated",
            400,
        ),
        (
            "import: description",
            "ImportImage",
            imp_with(&[("Description", "https://x")]),
            "InvalidDescription.Malformed",
            400,
        ),
        (
            "import: architecture",
            "ImportImage",
            imp_with(&[("Architecture", "ppc")]),
            "InvalidArchitecture.Malformed",
            400,
        ),
        (
            "import: os type",
            "ImportImage",
            imp_with(&[("OSType", "bsd")]),
            "InvalidOSType.Malformed",
            400,
        ),
        (
            "import: platform",
            "ImportImage",
            imp_with(&[("Platform", "Haiku")]),
            "InvalidPlatform.Malformed",
            400,
        ),
        (
            "import: boot mode",
            "ImportImage",
            imp_with(&[("BootMode", "UEFI-Preferred")]),
            "InvalidBootMode.Malformed",
            400,
        ),
        (
            "import: arm64 bios",
            "ImportImage",
            imp_with(&[("Architecture", "arm64"), ("BootMode", "BIOS")]),
            "InvalidBootMode.NotSupport",
            400,
        ),
        (
            "import: license",
            "ImportImage",
            imp_with(&[("LicenseType", "GPL")]),
            "InvalidLicenseType.NotSupported",
            400,
        ),
        (
            "import: detection",
            "ImportImage",
            imp_with(&[("DetectionStrategy", "Deep")]),
            "InvalidParameter.DetectionStrategy",
            400,
        ),
        (
            "import: imds",
            "ImportImage",
            imp_with(&[("Features.ImdsSupport", "v9")]),
            "InvalidParameter.FeaturesImdsSupport",
            400,
        ),
        (
            "import: windows check",
            "ImportImage",
            imp_with(&[("OSType", "windows"), ("DetectionStrategy", "Standard")]),
            "ImageCheckUnsupported.WindowsImage",
            403,
        ),
        (
            "import: arm64 windows",
            "ImportImage",
            imp_with(&[
                ("Architecture", "arm64"),
                ("Platform", "Windows Server 2022"),
            ]),
            "InvalidArchitecture.PlatformUnsupported",
            403,
        ),
        (
            "import: tag dup",
            "ImportImage",
            imp_with(&[("Tag.1.Key", "Env"), ("Tag.2.Key", "env")]),
            "TagKey.Duplication",
            403,
        ),
        (
            "import: bucket malformed",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "Bad_Bucket"),
                ("DiskDeviceMapping.1.OSSObject", "a.raw"),
            ],
            "InvalidOSSBucket.Malformed",
            400,
        ),
        (
            "import: object malformed",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.1.OSSObject", "https://x/a.raw"),
            ],
            "InvalidOSSObject.Malformed",
            400,
        ),
        (
            "import: format",
            "ImportImage",
            imp_with(&[("DiskDeviceMapping.1.Format", "ISO")]),
            "InvalidImageFormat.Malformed",
            400,
        ),
        (
            "import: suffix",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.1.OSSObject", "images/disk.zip"),
            ],
            "UnsupportedSuffix.OSSObject",
            400,
        ),
        (
            "import: system size",
            "ImportImage",
            imp_with(&[("DiskDeviceMapping.1.DiskImageSize", "4096")]),
            "InvalidImageSize",
            400,
        ),
        (
            "import: data size",
            "ImportImage",
            imp_with(&[
                ("DiskDeviceMapping.2.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.2.OSSObject", "images/debian-12.raw"),
                ("DiskDeviceMapping.2.DiskImageSize", "0x"),
            ]),
            "InvalidImageSize",
            400,
        ),
        (
            "import: data size range",
            "ImportImage",
            imp_with(&[
                ("DiskDeviceMapping.2.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.2.OSSObject", "images/debian-12.raw"),
                ("DiskDeviceMapping.2.DiskImageSize", "3000"),
            ]),
            "InvalidDataDiskSize",
            400,
        ),
        (
            "import: bucket missing",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "no-such-bucket"),
                ("DiskDeviceMapping.1.OSSObject", "a.raw"),
            ],
            "InvalidOSSBucket.NotFound",
            400,
        ),
        (
            "import: object missing",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.1.OSSObject", "nope.raw"),
            ],
            "InvalidOSSObject.NotFound",
            400,
        ),
        (
            "import: empty object",
            "ImportImage",
            vec![
                HZ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-quickstart"),
                ("DiskDeviceMapping.1.OSSObject", "images/empty.raw"),
            ],
            "InvalidOSSObject.Size",
            400,
        ),
        (
            "import: region",
            "ImportImage",
            vec![("RegionId", "cn-nowhere"), oss[0], oss[1]],
            "InvalidRegionId.NotFound",
            404,
        ),
        (
            "import: ram role",
            "ImportImage",
            vec![
                BJ,
                ("DiskDeviceMapping.1.OSSBucket", "imgform-cn-beijing"),
                ("DiskDeviceMapping.1.OSSObject", "images/alinux-3.vhd"),
            ],
            "NoSetRoletoECSServiceAcount",
            403,
        ),
        (
            "import: resource group",
            "ImportImage",
            imp_with(&[("ResourceGroupId", "rg-nope")]),
            "InvalidResourceGroup.NotFound",
            404,
        ),
        (
            "import: client token",
            "ImportImage",
            imp_with(&[("ClientToken", "é")]),
            "InvalidClientToken.Malformed",
            400,
        ),
        (
            "import: dry run",
            "ImportImage",
            imp_with(&[("DryRun", "true")]),
            "DRYRUN.SUCCESS",
            400,
        ),
        (
            "import: delete while importing",
            "DeleteImage",
            vec![
                HZ,
                ("ImageId", Box::leak(importing.clone().into_boxed_str())),
            ],
            "ImageIsImporting",
            403,
        ),
        (
            "create: delete while creating",
            "DeleteImage",
            vec![
                HZ,
                ("ImageId", Box::leak(creating.clone().into_boxed_str())),
            ],
            "ImageIsCreating",
            403,
        ),
        // CreateImagePipeline
        (
            "pipeline: base type",
            "CreateImagePipeline",
            vec![HZ, ("BaseImageType", "ISO")],
            "InvalidBaseImageType.NotSupportedValue",
            400,
        ),
        (
            "pipeline: name",
            "CreateImagePipeline",
            pipe(&[("Name", "-x")]),
            "InvalidName.Malformed",
            400,
        ),
        (
            "pipeline: description",
            "CreateImagePipeline",
            pipe(&[("Description", "https://x")]),
            "InvalidDescription.Malformed",
            400,
        ),
        (
            "pipeline: image name",
            "CreateImagePipeline",
            pipe(&[("ImageName", "1x")]),
            "InvalidImageName.Malformed",
            400,
        ),
        (
            "pipeline: family",
            "CreateImagePipeline",
            pipe(&[("ImageFamily", "aliyun-x")]),
            "InvalidImageFamily.Malformed",
            400,
        ),
        (
            "pipeline: system disk",
            "CreateImagePipeline",
            pipe(&[("SystemDiskSize", "10")]),
            "InvalidSystemDiskSize.NotSupportedValue",
            400,
        ),
        (
            "pipeline: bandwidth",
            "CreateImagePipeline",
            pipe(&[("InternetMaxBandwidthOut", "101")]),
            "InvalidInternetMaxBandwidthOut.NotSupportedValue",
            400,
        ),
        (
            "pipeline: accounts",
            "CreateImagePipeline",
            {
                let mut v = pipe(&[]);
                for i in 0..21 {
                    v.push((
                        Box::leak(format!("AddAccount.{}", i + 1).into_boxed_str()),
                        "123",
                    ));
                }
                v
            },
            "InvalidAddAccountSize.ExceededMaxNumber",
            400,
        ),
        (
            "pipeline: regions",
            "CreateImagePipeline",
            {
                let mut v = pipe(&[]);
                for i in 0..21 {
                    v.push((
                        Box::leak(format!("ToRegionId.{}", i + 1).into_boxed_str()),
                        "cn-beijing",
                    ));
                }
                v
            },
            "InvalidToRegionIdSize.ExceededMaxNumber",
            400,
        ),
        (
            "pipeline: target region",
            "CreateImagePipeline",
            pipe(&[("ToRegionId.1", "cn-nowhere")]),
            "InvalidRegionId.NotFound",
            404,
        ),
        (
            "pipeline: content size",
            "CreateImagePipeline",
            pipe(&[("BuildContent", big_content)]),
            "InvalidBuildContent.LengthExceeded",
            400,
        ),
        (
            "pipeline: command count",
            "CreateImagePipeline",
            pipe(&[("BuildContent", many_cmds)]),
            "InvalidImageTemplateCommandSize.ExceededMaxNumber",
            400,
        ),
        (
            "pipeline: FROM twice",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "FROM IMAGE:a\nFROM IMAGE:b")]),
            "DuplicatedCommand.FROM",
            400,
        ),
        (
            "pipeline: FROM order",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "RUN a\nFROM IMAGE:b")]),
            "InvalidCommandOrder.FROM",
            400,
        ),
        (
            "pipeline: command",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "APT install")]),
            "InvalidImageTemplateCommand.NotSupported",
            400,
        ),
        (
            "pipeline: empty RUN",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "RUN")]),
            "EmptyCommandContent.RUN",
            400,
        ),
        (
            "pipeline: empty ENV",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "ENV")]),
            "EmptyCommandContent.ENV",
            400,
        ),
        (
            "pipeline: RESTART",
            "CreateImagePipeline",
            pipe(&[("BuildContent", "RESTART now")]),
            "NotEmptyCommandContent.RESTART",
            400,
        ),
        (
            "pipeline: test content",
            "CreateImagePipeline",
            pipe(&[("TestContent", big_content)]),
            "InvalidParameter.TestContent",
            400,
        ),
        (
            "pipeline: repair mode",
            "CreateImagePipeline",
            pipe(&[("RepairMode", "Deep")]),
            "InvalidParameter.RepairMode",
            400,
        ),
        (
            "pipeline: nvme",
            "CreateImagePipeline",
            pipe(&[("NvmeSupport", "maybe")]),
            "InvalidParameter.NvmeSupport",
            400,
        ),
        (
            "pipeline: base missing",
            "CreateImagePipeline",
            vec![HZ, ("BaseImageType", "IMAGE"), ("BaseImage", "m-nope")],
            "InvalidImage.NotFound",
            404,
        ),
        (
            "pipeline: windows base",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "IMAGE"),
                (
                    "BaseImage",
                    "win2022_21H2_x64_dtc_en-us_40G_alibase_20240101.vhd",
                ),
            ],
            "ImagePipeline.NotSupportWindowsInstance",
            403,
        ),
        (
            "pipeline: combination",
            "CreateImagePipeline",
            pipe(&[("ImportImageOptions.Architecture", "x86_64")]),
            "InvalidParameterCombination",
            400,
        ),
        (
            "pipeline: vswitch",
            "CreateImagePipeline",
            pipe(&[("VSwitchId", "vsw-nope")]),
            "InvalidVSwitchId.NotFound",
            404,
        ),
        (
            "pipeline: instance type",
            "CreateImagePipeline",
            pipe(&[("InstanceType", "ecs.nope")]),
            "InvalidInstanceType.NotFound",
            404,
        ),
        (
            "pipeline: resource group",
            "CreateImagePipeline",
            pipe(&[("ResourceGroupId", "rg-nope")]),
            "InvalidResourceGroup.NotFound",
            404,
        ),
        (
            "pipeline: quota",
            "CreateImagePipeline",
            vec![
                BJ,
                ("BaseImageType", "IMAGE"),
                ("BaseImage", "ubuntu_22_04_x64_20G_alibase_20240101.vhd"),
            ],
            "QuotaExceed.ImagePipeline",
            400,
        ),
        (
            "pipeline: OSS without options",
            "CreateImagePipeline",
            vec![HZ, ("BaseImageType", "OSS")],
            "MissingParameter.ImportImageOptions",
            404,
        ),
        (
            "pipeline: OSS no mappings",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                ("ImportImageOptions.Architecture", "x86_64"),
            ],
            "MissingParameter.ImageOptionsDiskDeviceMappings",
            404,
        ),
        (
            "pipeline: OSS bucket missing",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                ("ImportImageOptions.DiskDeviceMappings.1.OSSObject", "a.raw"),
            ],
            "MissingParameter.ImportImageOptionsDiskDeviceMappingsOSSBucket",
            404,
        ),
        (
            "pipeline: OSS object missing",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSBucket",
                    "imgform-quickstart",
                ),
            ],
            "MissingParameter.ImportImageOptionsDiskDeviceMappingsOSSObject",
            404,
        ),
        (
            "pipeline: OSS architecture",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.Architecture", "ppc")]),
            "InvalidParameter.ImportImageOptionsArchitecture",
            400,
        ),
        (
            "pipeline: OSS os type",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.OSType", "bsd")]),
            "InvalidParameter.ImportImageOptionsOSType",
            400,
        ),
        (
            "pipeline: OSS boot mode",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.BootMode", "Legacy")]),
            "InvalidParameter.ImportImageOptionsBootMode",
            400,
        ),
        (
            "pipeline: OSS platform",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.Platform", "Haiku")]),
            "InvalidParameter.ImportImageOptionsPlatform",
            400,
        ),
        (
            "pipeline: OSS license",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.LicenseType", "GPL")]),
            "InvalidParameter.ImportImageOptionsLicenseType",
            400,
        ),
        (
            "pipeline: OSS nvme",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.Features.NvmeSupport", "auto")]),
            "InvalidParameter.ImportImageOptionsFeaturesNvmeSupport",
            400,
        ),
        (
            "pipeline: OSS format",
            "CreateImagePipeline",
            oss_pipe(&[("ImportImageOptions.DiskDeviceMappings.1.Format", "ISO")]),
            "InvalidParameter.ImportImageOptionsDiskDeviceMappingsFormat",
            400,
        ),
        (
            "pipeline: OSS size",
            "CreateImagePipeline",
            oss_pipe(&[(
                "ImportImageOptions.DiskDeviceMappings.1.DiskImageSize",
                "4096",
            )]),
            "InvalidOperation.DiskImageSizeExceeded",
            400,
        ),
        (
            "pipeline: OSS bucket malformed",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                ("ImportImageOptions.DiskDeviceMappings.1.OSSBucket", "-bad"),
                ("ImportImageOptions.DiskDeviceMappings.1.OSSObject", "a.raw"),
            ],
            "InvalidParameter.ImportImageOptionsDiskDeviceMappingsOSSBucket",
            400,
        ),
        (
            "pipeline: OSS object malformed",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSBucket",
                    "imgform-quickstart",
                ),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSObject",
                    "http://x/a.raw",
                ),
            ],
            "InvalidParameter.ImportImageOptionsDiskDeviceMappingsOSSObject",
            400,
        ),
        (
            "pipeline: OSS object missing in region",
            "CreateImagePipeline",
            vec![
                HZ,
                ("BaseImageType", "OSS"),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSBucket",
                    "imgform-quickstart",
                ),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSObject",
                    "nope.raw",
                ),
            ],
            "InvalidImportImageOptionsDiskDeviceMappingsOSSObject.NotFound",
            404,
        ),
        (
            "pipeline: OSS role",
            "CreateImagePipeline",
            vec![
                BJ,
                ("BaseImageType", "OSS"),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSBucket",
                    "imgform-cn-beijing",
                ),
                (
                    "ImportImageOptions.DiskDeviceMappings.1.OSSObject",
                    "images/alinux-3.vhd",
                ),
            ],
            "InvalidOperation.NoRightAccessOSS",
            403,
        ),
    ];
    let mut mappings = Vec::new();
    for i in 0..18 {
        mappings.push((
            Box::leak(
                format!("ImportImageOptions.DiskDeviceMappings.{}.OSSBucket", i + 1)
                    .into_boxed_str(),
            ) as &str,
            "imgform-quickstart",
        ));
        mappings.push((
            Box::leak(
                format!("ImportImageOptions.DiskDeviceMappings.{}.OSSObject", i + 1)
                    .into_boxed_str(),
            ) as &str,
            "images/debian-12.raw",
        ));
    }
    let mut v = vec![HZ, ("BaseImageType", "OSS")];
    v.extend(mappings);
    cases.push((
        "pipeline: OSS 18 disks",
        "CreateImagePipeline",
        v,
        "InvalidImportImageOptionsDiskDeviceMappings.LengthLimitExceeded",
        400,
    ));
    let mut covered = std::collections::BTreeSet::new();
    for (name, action, params, code, status) in &cases {
        let err = c.call_raw(action, p(params), None).await.expect_err(name);
        let api = err
            .api()
            .unwrap_or_else(|| panic!("{name}: not an API error: {err}"));
        assert_eq!((api.code.as_str(), api.status), (*code, *status), "{name}");
        assert!(
            !api.request_id.is_empty() && !api.message.is_empty(),
            "{name}"
        );
        covered.insert(*code);
    }
    assert_eq!(covered.len(), 93, "distinct codes covered by the table");
    // IdempotenceParamNotMatch: same token, different parameters.
    let first = c
        .call_raw(
            "CreateImage",
            p(&[HZ, snap, ("ClientToken", "tok-1"), ("ImageName", "idem")]),
            None,
        )
        .await
        .expect("first");
    let again = c
        .call_raw(
            "CreateImage",
            p(&[HZ, snap, ("ClientToken", "tok-1"), ("ImageName", "idem")]),
            None,
        )
        .await
        .expect("replay");
    assert_eq!(
        first["ImageId"], again["ImageId"],
        "same token and parameters: same image"
    );
    let err = c
        .call_raw(
            "CreateImage",
            p(&[HZ, snap, ("ClientToken", "tok-1"), ("ImageName", "other")]),
            None,
        )
        .await
        .expect_err("mismatch");
    assert_eq!(err.code(), Some("IdempotenceParamNotMatch"));
    h.stop().await;
}

#[tokio::test]
async fn signature_and_protocol_errors() {
    let (h, _) = start(Options::default()).await;
    let mut bad = client(&h.endpoint(), 0);
    bad = {
        let _ = &bad;
        Client::new(ClientConfig {
            region: "cn-hangzhou".into(),
            endpoint: Some(h.endpoint()),
            credentials: Credentials {
                access_key_id: localcloud::DEFAULT_KEY_ID.into(),
                access_key_secret: "wrong".into(),
                security_token: None,
                source: "t".into(),
            },
            scheme: Scheme::V1,
            max_retries: 0,
            timeout: Duration::from_secs(5),
        })
        .expect("client")
    };
    let err = bad
        .call_raw("DescribeRegions", vec![], None)
        .await
        .expect_err("wrong secret");
    let api = err.api().expect("api");
    assert_eq!(
        (api.code.as_str(), api.status),
        ("SignatureDoesNotMatch", 400)
    );
    assert!(api.message.starts_with("Specified signature is not matched with our calculation. server string to sign is:POST&%2F&"), "{}", api.message);
    let unknown = Client::new(ClientConfig {
        region: "cn-hangzhou".into(),
        endpoint: Some(h.endpoint()),
        credentials: Credentials {
            access_key_id: "someone-else".into(),
            access_key_secret: "x".into(),
            security_token: None,
            source: "t".into(),
        },
        scheme: Scheme::V3,
        max_retries: 0,
        timeout: Duration::from_secs(5),
    })
    .expect("client");
    let err = unknown
        .call_raw("DescribeRegions", vec![], None)
        .await
        .expect_err("unknown key");
    assert_eq!(err.code(), Some("InvalidAccessKeyId.NotFound"));
    let c = client(&h.endpoint(), 0);
    let err = c
        .call_raw("NoSuchAction", vec![], None)
        .await
        .expect_err("unknown action");
    assert_eq!(err.code(), Some("InvalidAction.NotFound"));
    let r: ops::DescribeRegionsResponse = c
        .call("DescribeRegions", &ops::DescribeRegions::default())
        .await
        .expect("regions");
    let ids: Vec<&str> = r
        .regions
        .items
        .iter()
        .map(|r| r.region_id.as_str())
        .collect();
    assert_eq!(ids, ["cn-beijing", "cn-hangzhou", "cn-shanghai"]);
    h.stop().await;
}

#[tokio::test]
async fn life_cycles_follow_the_simulated_clock() {
    let (h, c) = start(Options::default()).await;
    let img: ops::CreateImageResponse = c
        .call(
            "CreateImage",
            &ops::CreateImage {
                region_id: "cn-hangzhou".into(),
                snapshot_id: Some("s-bp1system0001".into()),
                image_name: Some("life".into()),
                tag: vec![ops::Tag {
                    key: "a".into(),
                    value: "b".into(),
                }],
                ..Default::default()
            },
        )
        .await
        .expect("create");
    let (st, pr, usable) = image_status(&c, &img.image_id).await;
    assert_eq!(
        (st.as_str(), pr.as_str(), usable),
        ("Creating", "0%", false)
    );
    h.advance(Duration::from_secs(120));
    let (st, pr, _) = image_status(&c, &img.image_id).await;
    assert_eq!(st, "Creating");
    let pct = ops::parse_progress(&pr);
    assert!(pct > 0 && pct < 100, "{pr}");
    h.advance(Duration::from_secs(600));
    assert_eq!(
        image_status(&c, &img.image_id).await,
        ("Available".into(), "100%".into(), true)
    );
    // Without the Status list only Available images are returned; in progress ones are not.
    let imp: ops::ImportImageResponse = c
        .call(
            "ImportImage",
            &ops::ImportImage {
                region_id: "cn-hangzhou".into(),
                disk_device_mapping: vec![ops::ImportDisk {
                    oss_bucket: "imgform-quickstart".into(),
                    oss_object: "images/ubuntu-22.04.qcow2".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .expect("import");
    let only_available: ops::DescribeImagesResponse = c
        .call(
            "DescribeImages",
            &ops::DescribeImages {
                region_id: "cn-hangzhou".into(),
                image_id: Some(imp.image_id.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("describe");
    assert!(
        only_available.images.items.is_empty(),
        "the default Status is Available only"
    );
    let task = |c: Client, id: String| async move {
        c.describe_tasks_by_ids(&[id]).await.expect("tasks")[0]
            .task_status
            .clone()
    };
    assert_eq!(task(c.clone(), imp.task_id.clone()).await, "Waiting");
    assert_eq!(image_status(&c, &imp.image_id).await.0, "Waiting");
    h.advance(Duration::from_secs(120));
    assert_eq!(task(c.clone(), imp.task_id.clone()).await, "Processing");
    assert_eq!(image_status(&c, &imp.image_id).await.0, "Creating");
    h.advance(Duration::from_secs(2000));
    assert_eq!(task(c.clone(), imp.task_id.clone()).await, "Finished");
    assert_eq!(image_status(&c, &imp.image_id).await.0, "Available");
    // A pipeline build through every phase, with a copy in the target region.
    let pl: ops::CreateImagePipelineResponse = c
        .call(
            "CreateImagePipeline",
            &ops::CreateImagePipeline {
                region_id: "cn-hangzhou".into(),
                base_image_type: "IMAGE".into(),
                base_image: Some(img.image_id.clone()),
                to_region_id: vec!["cn-shanghai".into()],
                build_content: Some("RUN echo hi".into()),
                ..Default::default()
            },
        )
        .await
        .expect("pipeline");
    let ex: ops::StartImagePipelineExecutionResponse = c
        .call(
            "StartImagePipelineExecution",
            &ops::StartImagePipelineExecution {
                region_id: "cn-hangzhou".into(),
                image_pipeline_id: pl.image_pipeline_id.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("start");
    let again = c
        .call_raw(
            "StartImagePipelineExecution",
            ops::flatten(&ops::StartImagePipelineExecution {
                region_id: "cn-hangzhou".into(),
                image_pipeline_id: pl.image_pipeline_id.clone(),
                ..Default::default()
            }),
            None,
        )
        .await
        .expect_err("one at a time");
    assert_eq!(again.api().map(|a| a.status), Some(403));
    let del = c
        .call_raw(
            "DeleteImagePipeline",
            ops::flatten(&ops::DeleteImagePipeline {
                region_id: "cn-hangzhou".into(),
                image_pipeline_id: pl.image_pipeline_id.clone(),
            }),
            None,
        )
        .await
        .expect_err("running");
    assert_eq!(del.api().map(|a| a.status), Some(403));
    let mut phases = Vec::new();
    for _ in 0..25 {
        let r: ops::DescribeImagePipelineExecutionsResponse = c
            .call(
                "DescribeImagePipelineExecutions",
                &ops::DescribeImagePipelineExecutions {
                    region_id: "cn-hangzhou".into(),
                    execution_id: Some(ex.execution_id.clone()),
                    ..Default::default()
                },
            )
            .await
            .expect("executions");
        let s = r.image_pipeline_execution.items[0].status.clone();
        if phases.last() != Some(&s) {
            phases.push(s.clone());
        }
        if s == "SUCCESS" {
            assert!(r.image_pipeline_execution.items[0]
                .image_id
                .starts_with("m-"));
            break;
        }
        h.advance(Duration::from_secs(30));
    }
    assert_eq!(
        phases,
        [
            "PREPARING",
            "BUILDING",
            "TESTING",
            "DISTRIBUTING",
            "RELEASING",
            "SUCCESS"
        ]
    );
    let sh = client(&h.endpoint(), 0);
    let sh = {
        let _ = sh;
        Client::new(ClientConfig {
            region: "cn-shanghai".into(),
            endpoint: Some(h.endpoint()),
            credentials: Credentials {
                access_key_id: localcloud::DEFAULT_KEY_ID.into(),
                access_key_secret: localcloud::DEFAULT_SECRET.into(),
                security_token: None,
                source: "t".into(),
            },
            scheme: Scheme::V3,
            max_retries: 0,
            timeout: Duration::from_secs(5),
        })
        .expect("client")
    };
    let copies: ops::DescribeImagesResponse = sh
        .call(
            "DescribeImages",
            &ops::DescribeImages {
                region_id: "cn-shanghai".into(),
                image_owner_alias: Some("self".into()),
                status: Some(ops::ALL_IMAGE_STATUSES.into()),
                ..Default::default()
            },
        )
        .await
        .expect("copies");
    assert_eq!(
        copies.images.items.len(),
        1,
        "the build was distributed to cn-shanghai"
    );
    // Cancelling an import and a build.
    let imp2: ops::ImportImageResponse = c
        .call(
            "ImportImage",
            &ops::ImportImage {
                region_id: "cn-hangzhou".into(),
                disk_device_mapping: vec![ops::ImportDisk {
                    oss_bucket: "imgform-quickstart".into(),
                    oss_object: "images/debian-12.raw".into(),
                    ..Default::default()
                }],
                ..Default::default()
            },
        )
        .await
        .expect("import");
    let _: ops::Empty = c
        .call(
            "CancelTask",
            &ops::CancelTask {
                region_id: "cn-hangzhou".into(),
                task_id: imp2.task_id.clone(),
            },
        )
        .await
        .expect("cancel");
    let _: ops::Empty = c
        .call(
            "DeleteImage",
            &ops::DeleteImage {
                region_id: "cn-hangzhou".into(),
                image_id: imp2.image_id.clone(),
                force: None,
            },
        )
        .await
        .expect("delete after cancel");
    let ex2: ops::StartImagePipelineExecutionResponse = c
        .call(
            "StartImagePipelineExecution",
            &ops::StartImagePipelineExecution {
                region_id: "cn-hangzhou".into(),
                image_pipeline_id: pl.image_pipeline_id.clone(),
                ..Default::default()
            },
        )
        .await
        .expect("start");
    let _: ops::Empty = c
        .call(
            "CancelImagePipelineExecution",
            &ops::CancelImagePipelineExecution {
                region_id: "cn-hangzhou".into(),
                execution_id: ex2.execution_id.clone(),
            },
        )
        .await
        .expect("cancel build");
    h.advance(Duration::from_secs(60));
    let _: ops::Empty = c
        .call(
            "DeleteImagePipeline",
            &ops::DeleteImagePipeline {
                region_id: "cn-hangzhou".into(),
                image_pipeline_id: pl.image_pipeline_id.clone(),
            },
        )
        .await
        .expect("delete pipeline");
    // Attribute changes.
    let _: ops::Empty = c
        .call(
            "ModifyImageAttribute",
            &ops::ModifyImageAttribute {
                region_id: "cn-hangzhou".into(),
                image_id: img.image_id.clone(),
                description: Some("changed".into()),
                ..Default::default()
            },
        )
        .await
        .expect("modify");
    let _: ops::Empty = c
        .call(
            "TagResources",
            &ops::TagResources {
                region_id: "cn-hangzhou".into(),
                resource_type: "image".into(),
                resource_id: vec![img.image_id.clone()],
                tag: vec![ops::Tag {
                    key: "c".into(),
                    value: "d".into(),
                }],
            },
        )
        .await
        .expect("tag");
    let _: ops::Empty = c
        .call(
            "UntagResources",
            &ops::UntagResources {
                region_id: "cn-hangzhou".into(),
                resource_type: "image".into(),
                resource_id: vec![img.image_id.clone()],
                tag_key: vec!["a".into()],
                all: None,
            },
        )
        .await
        .expect("untag");
    let _: ops::Empty = c
        .call(
            "JoinResourceGroup",
            &ops::JoinResourceGroup {
                region_id: "cn-hangzhou".into(),
                resource_id: img.image_id.clone(),
                resource_group_id: "rg-bp1team0001".into(),
                resource_type: "image".into(),
            },
        )
        .await
        .expect("join");
    let i = &c
        .describe_images_by_ids(std::slice::from_ref(&img.image_id))
        .await
        .expect("read")[0];
    assert_eq!(i.description, "changed");
    assert_eq!(i.resource_group_id, "rg-bp1team0001");
    assert_eq!(
        i.tags
            .items
            .iter()
            .map(|t| (t.tag_key.as_str(), t.tag_value.as_str()))
            .collect::<Vec<_>>(),
        [("c", "d")]
    );
    let _: ops::Empty = c
        .call(
            "DeleteImage",
            &ops::DeleteImage {
                region_id: "cn-hangzhou".into(),
                image_id: img.image_id.clone(),
                force: Some(true),
            },
        )
        .await
        .expect("delete");
    let _: ops::Empty = c
        .call(
            "DeleteImage",
            &ops::DeleteImage {
                region_id: "cn-hangzhou".into(),
                image_id: img.image_id.clone(),
                force: Some(true),
            },
        )
        .await
        .expect("a repeated delete is ignored");
    let stats = h.stats();
    assert_eq!(
        stats["calls"]["StartImagePipelineExecution"], 3,
        "failed calls are counted: {stats}"
    );
    assert_eq!(stats["objects"]["pipelines"], 0);
    assert_eq!(stats["objects"]["tasks"], 2);
    h.stop().await;
}

/// One server per data directory: a second one (or a `cloud seed`) would write over what
/// the first keeps in memory. The directory is free again once the server stops.
#[tokio::test]
async fn a_data_directory_is_served_by_one_cloud_at_a_time() {
    let dir = tempfile::tempdir().expect("tmp");
    let opts = Options {
        data: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let (h, _) = start(opts.clone()).await;
    let second = localcloud::start(opts.clone()).await;
    let err = second
        .err()
        .expect("a second server on the same data is refused");
    assert!(err.contains("is in use by another process"), "{err}");
    // Reading the data (as tests and `state` inspection do) takes no lock.
    assert!(localcloud::Cloud::open(&opts).is_ok());
    h.stop().await;
    let (h, _) = start(opts).await;
    h.stop().await;
}

#[tokio::test]
async fn a_restart_resumes_operations_where_they_were() {
    let dir = tempfile::tempdir().expect("tmp");
    let opts = Options {
        data: Some(dir.path().to_path_buf()),
        ..Options::default()
    };
    let (h, c) = start(opts.clone()).await;
    let img: ops::CreateImageResponse = c
        .call(
            "CreateImage",
            &ops::CreateImage {
                region_id: "cn-hangzhou".into(),
                snapshot_id: Some("s-bp1system0001".into()),
                client_token: Some("restart-1".into()),
                ..Default::default()
            },
        )
        .await
        .expect("create");
    h.advance(Duration::from_secs(180));
    let before = ops::parse_progress(&image_status(&c, &img.image_id).await.1);
    h.stop().await;
    let (h, c) = start(opts).await;
    let (st, pr, _) = image_status(&c, &img.image_id).await;
    assert_eq!(st, "Creating", "the operation survived the restart");
    assert!(
        ops::parse_progress(&pr) >= before,
        "progress {pr} resumed from {before}%"
    );
    let again: ops::CreateImageResponse = c
        .call(
            "CreateImage",
            &ops::CreateImage {
                region_id: "cn-hangzhou".into(),
                snapshot_id: Some("s-bp1system0001".into()),
                client_token: Some("restart-1".into()),
                ..Default::default()
            },
        )
        .await
        .expect("replay");
    assert_eq!(again.image_id, img.image_id, "tokens survive restarts too");
    h.advance(Duration::from_secs(600));
    assert_eq!(image_status(&c, &img.image_id).await.0, "Available");
    assert_eq!(h.stats()["objects"]["images"], 1);
    h.stop().await;
}

#[tokio::test]
async fn faults_on_demand() {
    assert!(Faults::parse("throttle=2").is_err());
    assert!(Faults::parse("bogus=1").is_err());
    let f =
        Faults::parse("throttle=0.2,error500=0.05,reset=0.02,latency=50ms,fail_create=0.1,seed=7")
            .expect("parses");
    assert_eq!(
        (
            f.throttle,
            f.error500,
            f.reset,
            f.latency,
            f.fail_create,
            f.seed
        ),
        (0.2, 0.05, 0.02, Duration::from_millis(50), 0.1, 7)
    );
    let (h, c) = start(Options {
        faults: Faults {
            throttle: 1.0,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let err = c
        .call_raw("DescribeRegions", vec![], None)
        .await
        .expect_err("throttled");
    let api = err.api().expect("api");
    assert_eq!((api.code.as_str(), api.status), ("Throttling.User", 400));
    assert!(api.retry_after.is_some(), "x-acs-retry-after is sent");
    h.stop().await;
    let (h, c) = start(Options {
        faults: Faults {
            reset: 1.0,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let err = c
        .call_raw("DescribeRegions", vec![], None)
        .await
        .expect_err("reset");
    assert!(
        matches!(err, imgform::cloud::error::Error::Transport { .. }),
        "{err}"
    );
    h.stop().await;
    let (h, c) = start(Options {
        faults: Faults {
            error500: 1.0,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    assert_eq!(
        c.call_raw("DescribeRegions", vec![], None)
            .await
            .expect_err("500")
            .api()
            .map(|a| a.status),
        Some(500)
    );
    h.stop().await;
    let (h, c) = start(Options {
        faults: Faults {
            fail_create: 1.0,
            ..Faults::default()
        },
        ..Options::default()
    })
    .await;
    let img: ops::CreateImageResponse = c
        .call(
            "CreateImage",
            &ops::CreateImage {
                region_id: "cn-hangzhou".into(),
                snapshot_id: Some("s-bp1system0001".into()),
                ..Default::default()
            },
        )
        .await
        .expect("accepted");
    h.advance(Duration::from_secs(3600));
    assert_eq!(image_status(&c, &img.image_id).await.0, "CreateFailed");
    h.stop().await;
    // With retries the client rides out a noisy cloud.
    let (h, _) = start(Options {
        faults: Faults::parse("throttle=0.3,error500=0.1,reset=0.05,seed=3").expect("spec"),
        ..Options::default()
    })
    .await;
    let c = client(&h.endpoint(), 12);
    let c = c.with_hooks(
        std::sync::Arc::new(|_| Box::pin(async {})),
        std::sync::Arc::new(|| 0.5),
        std::sync::Arc::new(time::OffsetDateTime::now_utc),
    );
    for _ in 0..20 {
        let _: ops::DescribeRegionsResponse = c
            .call("DescribeRegions", &ops::DescribeRegions::default())
            .await
            .expect("converges");
    }
    let calls = h.stats()["calls"]["DescribeRegions"]
        .as_u64()
        .expect("count");
    assert!(calls > 20, "faults forced retries: {calls}");
    h.stop().await;
}

/// A v1-signed DescribeRegions with the given timestamp and nonce, as raw HTTP.
async fn raw_v1(endpoint: &str, timestamp: &str, nonce: &str) -> (u16, serde_json::Value) {
    use imgform::cloud::sign;
    let mut all: Vec<(String, String)> = [
        ("Action", "DescribeRegions"),
        ("Version", "2014-05-26"),
        ("Format", "JSON"),
        ("Timestamp", timestamp),
        ("SignatureMethod", "HMAC-SHA1"),
        ("SignatureVersion", "1.0"),
        ("SignatureNonce", nonce),
        ("AccessKeyId", localcloud::DEFAULT_KEY_ID),
        ("RegionId", "cn-hangzhou"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let sig = sign::rpc::signature("POST", &all, localcloud::DEFAULT_SECRET);
    all.push(("Signature".into(), sig));
    let r = reqwest::Client::new()
        .post(format!("{endpoint}/?{}", sign::form_encode(&all)))
        .send()
        .await
        .expect("answer");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

fn utc(offset_secs: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    (time::OffsetDateTime::now_utc() + time::Duration::seconds(offset_secs))
        .format(&f)
        .expect("format")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_timestamps_and_replayed_nonces_are_refused_as_ecs_does() {
    let (h, _) = start(Options::default()).await;
    let e = h.endpoint();
    let (s, v) = raw_v1(&e, &utc(0), "00000000000000000000000000000001").await;
    assert_eq!(s, 200, "{v}");
    // The same signed request again: a replay.
    let (s, v) = raw_v1(&e, &utc(0), "00000000000000000000000000000001").await;
    assert_eq!(
        (s, v["Code"].as_str()),
        (400, Some("SignatureNonceUsed")),
        "{v}"
    );
    // Outside ECS's 15-minute window, either way.
    for off in [-3600, 3600] {
        let (s, v) = raw_v1(&e, &utc(off), &format!("{:032x}", off.unsigned_abs())).await;
        assert_eq!(
            (s, v["Code"].as_str()),
            (400, Some("InvalidTimeStamp.Expired")),
            "{v}"
        );
    }
    let (s, v) = raw_v1(&e, "yesterday", "00000000000000000000000000000002").await;
    assert_eq!(
        (s, v["Code"].as_str()),
        (400, Some("InvalidTimeStamp.Format")),
        "{v}"
    );
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_endpoints_need_the_credentials_and_survive_hostile_values() {
    let (h, c) = start(Options::default()).await;
    let http = reqwest::Client::new();
    let stats = format!("{}/_imgform/stats", h.endpoint());
    let r = http.get(&stats).send().await.expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .get(&stats)
        .basic_auth(localcloud::DEFAULT_KEY_ID, Some("wrong"))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 401);
    let r = http
        .get(&stats)
        .basic_auth(localcloud::DEFAULT_KEY_ID, Some(localcloud::DEFAULT_SECRET))
        .send()
        .await
        .expect("answer");
    assert_eq!(r.status().as_u16(), 200);
    for bad in ["1e300", "-5", "NaN", "inf", "x"] {
        let r = http
            .post(format!("{}/_imgform/advance?seconds={bad}", h.endpoint()))
            .basic_auth(localcloud::DEFAULT_KEY_ID, Some(localcloud::DEFAULT_SECRET))
            .send()
            .await
            .expect("answer");
        assert_eq!(r.status().as_u16(), 400, "{bad}");
    }
    // The cloud still answers: nothing was poisoned.
    let _: ops::DescribeRegionsResponse = c
        .call("DescribeRegions", &ops::DescribeRegions::default())
        .await
        .expect("still serving");
    assert!(localcloud::check_speed(1e-300).is_err());
    assert!(localcloud::check_speed(f64::NAN).is_err());
    assert!(localcloud::check_speed(60.0).is_ok());
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_request_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (h, _) = start(Options {
        header_timeout: Duration::from_millis(200),
        ..Options::default()
    })
    .await;
    let mut s = tokio::net::TcpStream::connect(h.addr)
        .await
        .expect("connect");
    s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server closed the connection");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_answer_means_the_operation_ran() {
    let (h, c) = start(Options {
        faults: Faults::parse("lost=1,only=CreateImage").expect("spec"),
        ..Options::default()
    })
    .await;
    let r: Result<ops::CreateImageResponse, _> = c
        .call(
            "CreateImage",
            &ops::CreateImage {
                region_id: "cn-hangzhou".into(),
                image_name: Some("lost-answer".into()),
                snapshot_id: Some("s-bp1system0001".into()),
                client_token: Some("tok-lost-1".into()),
                ..Default::default()
            },
        )
        .await;
    let e = r.expect_err("no answer");
    assert!(e.may_have_acted(), "{e}");
    let made = h.cloud.lock().expect("lock").custom_images();
    assert_eq!(
        made.len(),
        1,
        "the image was made although the answer was lost"
    );
    h.stop().await;
}
