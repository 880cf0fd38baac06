//! The value rules stated by the ECS API pages (`shared/seeds/`), as small pure functions.
//! Each returns the problem and a hint; the schemas attach them to attributes.

use crate::value::Value;

/// A rule's failure: (detail, hint).
pub type Fail = (String, String);

fn s(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn fail(detail: impl Into<String>, hint: impl Into<String>) -> Result<(), Fail> {
    Err((detail.into(), hint.into()))
}

/// Letters (ASCII or CJK ideographs, as the API's "Chinese character").
fn is_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || ('\u{4e00}'..='\u{9fff}').contains(&c)
        || ('\u{3400}'..='\u{4dbf}').contains(&c)
}

fn starts_with_any(v: &str, prefixes: &[&str]) -> Option<String> {
    prefixes
        .iter()
        .find(|p| v.to_ascii_lowercase().starts_with(&p.to_ascii_lowercase()))
        .map(|p| p.to_string())
}

/// The common name rule: length, first character, allowed characters, forbidden prefixes.
fn name_rule(
    v: &str,
    what: &str,
    min: usize,
    max: usize,
    extra: &[char],
    forbidden_prefixes: &[&str],
) -> Result<(), Fail> {
    let n = v.chars().count();
    if n < min || n > max {
        return fail(
            format!("{what} must be {min} to {max} characters long; {v:?} has {n}"),
            format!("use {what} of {min} to {max} characters"),
        );
    }
    if !v.chars().next().is_some_and(is_letter) {
        return fail(
            format!("{what} must start with a letter or a Chinese character; {v:?} does not"),
            "start it with a letter",
        );
    }
    if let Some(p) = starts_with_any(v, forbidden_prefixes) {
        return fail(
            format!("{what} must not start with {p:?}"),
            format!("remove the {p:?} prefix"),
        );
    }
    if let Some(bad) = v
        .chars()
        .find(|c| !(is_letter(*c) || c.is_ascii_digit() || extra.contains(c)))
    {
        let allowed: String = extra.iter().map(|c| format!(" {c}")).collect();
        return fail(
            format!("{what} contains {bad:?}, which is not allowed"),
            format!("use only letters, digits and{allowed}"),
        );
    }
    Ok(())
}

/// CreateImage/ImportImage `ImageName`: 2–128, starts with a letter, letters, digits,
/// `. : _ -`, not `http://`, `https://`, `acs:` or `aliyun`.
pub fn image_name(v: &Value) -> Result<(), Fail> {
    name_rule(
        &s(v),
        "an image name",
        2,
        128,
        &['.', ':', '_', '-'],
        &["http://", "https://", "acs:", "aliyun"],
    )
}

/// `ImageFamily`: 2–128, starts with a letter, letters, digits, `. : _ -`, not `acs:` or
/// `aliyun`, no `http://`/`https://`.
pub fn image_family(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    if t.contains("http://") || t.contains("https://") {
        return fail(
            "an image family must not contain http:// or https://",
            "remove the URL",
        );
    }
    name_rule(
        &t,
        "an image family",
        2,
        128,
        &['.', ':', '_', '-'],
        &["acs:", "aliyun"],
    )
}

/// `Description`: 2–256 characters, not starting with `http://` or `https://`.
pub fn description(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    let n = t.chars().count();
    if !(2..=256).contains(&n) {
        return fail(
            format!("a description must be 2 to 256 characters long; this one has {n}"),
            "shorten or lengthen the description",
        );
    }
    if let Some(p) = starts_with_any(&t, &["http://", "https://"]) {
        return fail(
            format!("a description must not start with {p:?}"),
            "put the URL later in the text",
        );
    }
    Ok(())
}

/// CreateImagePipeline `Name`: `^[a-zA-Z][a-zA-Z0-9:._-]{1,127}$`.
pub fn pipeline_name(v: &Value) -> Result<(), Fail> {
    name_rule(
        &s(v),
        "a pipeline name",
        2,
        128,
        &['.', ':', '_', '-'],
        &["http://", "https://"],
    )
}

/// CreateImagePipeline `ImageName` (a prefix): 2–64 characters.
pub fn image_name_prefix(v: &Value) -> Result<(), Fail> {
    name_rule(
        &s(v),
        "an image name prefix",
        2,
        64,
        &['.', ':', '_', '-'],
        &["http://", "https://"],
    )
}

fn one_of(v: &Value, what: &str, allowed: &[&str], case_insensitive: bool) -> Result<(), Fail> {
    let t = s(v);
    let ok = if case_insensitive {
        allowed.iter().any(|a| a.eq_ignore_ascii_case(&t))
    } else {
        allowed.contains(&t.as_str())
    };
    if ok {
        return Ok(());
    }
    let mut hint = format!("use one of: {}", allowed.join(", "));
    if let Some(m) = allowed.iter().find(|a| a.eq_ignore_ascii_case(&t)) {
        hint = format!("values are case-sensitive: did you mean {m:?}?");
    } else if let Some(m) = crate::diag::did_you_mean(&t, allowed.iter().copied()) {
        hint = format!("did you mean {m:?}?");
    }
    fail(format!("{t:?} is not a valid {what}"), hint)
}

/// Platforms accepted by CreateImage.
pub const PLATFORMS: &[&str] = &[
    "Aliyun",
    "Anolis",
    "CentOS",
    "Ubuntu",
    "CoreOS",
    "SUSE",
    "Debian",
    "OpenSUSE",
    "FreeBSD",
    "RedHat",
    "Kylin",
    "UOS",
    "Fedora",
    "Fedora CoreOS",
    "CentOS Stream",
    "AlmaLinux",
    "Rocky Linux",
    "Gentoo",
    "Customized Linux",
    "Others Linux",
    "Windows Server 2022",
    "Windows Server 2019",
    "Windows Server 2016",
    "Windows Server 2012",
    "Windows Server 2008",
    "Windows Server 2003",
];

/// `Platform` for CreateImage.
pub fn platform(v: &Value) -> Result<(), Fail> {
    one_of(v, "platform", PLATFORMS, false)
}

/// `Platform` for ImportImage (adds `Other Windows`).
pub fn import_platform(v: &Value) -> Result<(), Fail> {
    if s(v) == "Other Windows" {
        return Ok(());
    }
    one_of(v, "platform", PLATFORMS, false)
}

/// `Architecture`: i386, x86_64, arm64.
pub fn architecture(v: &Value) -> Result<(), Fail> {
    one_of(v, "architecture", &["i386", "x86_64", "arm64"], false)
}

/// CreateImage `BootMode`.
pub fn boot_mode(v: &Value) -> Result<(), Fail> {
    one_of(v, "boot mode", &["BIOS", "UEFI", "UEFI-Preferred"], false)
}

/// ImportImage `BootMode`.
pub fn import_boot_mode(v: &Value) -> Result<(), Fail> {
    one_of(v, "boot mode for an import", &["BIOS", "UEFI"], false)
}

/// `OSType`.
pub fn os_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "OS type", &["windows", "linux"], false)
}

/// `LicenseType` (the provider's `Auto` included).
pub fn license_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "license type", &["Auto", "Aliyun", "BYOL"], false)
}

/// Import `Format` (case-insensitive, as the provider wrote `qcow2`).
pub fn disk_format(v: &Value) -> Result<(), Fail> {
    one_of(v, "image format", &["RAW", "VHD", "QCOW2", "VMDK"], true)
}

/// `DiskType`.
pub fn disk_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "disk type", &["system", "data"], false)
}

/// `BaseImageType`.
pub fn base_image_type(v: &Value) -> Result<(), Fail> {
    one_of(
        v,
        "base image type",
        &["IMAGE", "IMAGE_FAMILY", "OSS"],
        false,
    )
}

/// `DetectionStrategy`: only `Standard`.
pub fn detection_strategy(v: &Value) -> Result<(), Fail> {
    one_of(v, "detection strategy", &["Standard"], false)
}

/// `RepairMode`: only `Standard`.
pub fn repair_mode(v: &Value) -> Result<(), Fail> {
    one_of(v, "repair mode", &["Standard"], false)
}

/// `Features.ImdsSupport`.
pub fn imds_support(v: &Value) -> Result<(), Fail> {
    one_of(v, "IMDS support mode", &["v1", "v2"], false)
}

/// `Features.NvmeSupport`.
pub fn nvme_support(v: &Value) -> Result<(), Fail> {
    one_of(
        v,
        "NVMe support value",
        &["supported", "unsupported"],
        false,
    )
}

/// `ImageOptions.ImageFeatures.NvmeSupport` (adds `auto`).
pub fn nvme_support_auto(v: &Value) -> Result<(), Fail> {
    one_of(
        v,
        "NVMe support value",
        &["supported", "unsupported", "auto"],
        false,
    )
}

/// `AdvancedOptions.ImageNameSuffix`.
pub fn image_name_suffix(v: &Value) -> Result<(), Fail> {
    one_of(v, "image name suffix option", &["disable"], false)
}

/// Data source `owners` / `ImageOwnerAlias` (`""` means any owner, as in the provider).
pub fn owners(v: &Value) -> Result<(), Fail> {
    if s(v).is_empty() {
        return Ok(());
    }
    one_of(
        v,
        "image owner",
        &["system", "self", "others", "marketplace"],
        false,
    )
}

/// Data source `status`: a comma-separated list of image statuses.
pub fn image_status_list(v: &Value) -> Result<(), Fail> {
    for part in s(v).split(',') {
        one_of(
            &Value::String(part.trim().to_string()),
            "image status",
            &[
                "Creating",
                "Waiting",
                "Available",
                "UnAvailable",
                "CreateFailed",
                "Deprecated",
            ],
            false,
        )?;
    }
    Ok(())
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) if n.fract() == 0.0 => Some(*n as i64),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn range(v: &Value, what: &str, lo: i64, hi: i64) -> Result<(), Fail> {
    match int(v) {
        Some(n) if (lo..=hi).contains(&n) => Ok(()),
        Some(n) => fail(
            format!("{what} must be between {lo} and {hi}; got {n}"),
            format!("use a value from {lo} to {hi}"),
        ),
        None => fail(
            format!("{what} must be a whole number"),
            "write a number without quotes",
        ),
    }
}

/// Pipeline `SystemDiskSize`: 20–500 GiB.
pub fn system_disk_size(v: &Value) -> Result<(), Fail> {
    range(v, "the system disk size (GiB)", 20, 500)
}

/// Pipeline `InternetMaxBandwidthOut`: 0–100 Mbit/s.
pub fn bandwidth(v: &Value) -> Result<(), Fail> {
    range(v, "the outbound bandwidth (Mbit/s)", 0, 100)
}

/// Import `DiskImageSize`: 1–2048 GiB.
pub fn disk_image_size(v: &Value) -> Result<(), Fail> {
    range(v, "the disk image size (GiB)", 1, 2048)
}

/// CreateImage `DiskDeviceMapping.N.Size`: 5–32768 GiB (basic disks 5–2000, others
/// 20–32768; with a snapshot, at least the snapshot's size, which only the cloud knows).
pub fn mapping_size(v: &Value) -> Result<(), Fail> {
    range(v, "a disk size (GiB)", 5, 32768)
}

/// Validates a tag key as every seed page states it.
pub fn tag_key(k: &str) -> Result<(), Fail> {
    if k.is_empty() {
        return fail("a tag key must not be empty", "give the tag a key");
    }
    if k.chars().count() > 128 {
        return fail(
            format!("the tag key {k:?} is longer than 128 characters"),
            "shorten the key",
        );
    }
    if let Some(p) = starts_with_any(k, &["aliyun", "acs:"]) {
        return fail(
            format!("the tag key {k:?} starts with {p:?}, which is reserved"),
            "choose another key",
        );
    }
    if k.contains("http://") || k.contains("https://") {
        return fail(
            format!("the tag key {k:?} contains a URL"),
            "remove http:// or https:// from the key",
        );
    }
    Ok(())
}

/// Validates a tag value.
pub fn tag_value(k: &str, v: &str) -> Result<(), Fail> {
    if v.chars().count() > 128 {
        return fail(
            format!("the value of tag {k:?} is longer than 128 characters"),
            "shorten the value",
        );
    }
    if starts_with_any(v, &["acs:"]).is_some() {
        return fail(
            format!("the value of tag {k:?} starts with \"acs:\", which is reserved"),
            "choose another value",
        );
    }
    if v.contains("http://") || v.contains("https://") {
        return fail(
            format!("the value of tag {k:?} contains a URL"),
            "remove http:// or https:// from the value",
        );
    }
    Ok(())
}

/// `Tag.N`: at most 20, keys unique (case-insensitively, as ImportImage checks), each key
/// and value valid.
pub fn tags(v: &Value) -> Result<(), Fail> {
    let Some(m) = v.as_map() else {
        return fail("tags must be a map", "write tags = { key = \"value\" }");
    };
    if m.len() > 20 {
        return fail(
            format!("at most 20 tags are allowed; {} are set", m.len()),
            "remove some tags",
        );
    }
    let mut seen: Vec<String> = Vec::new();
    for (k, val) in m {
        tag_key(k)?;
        let lower = k.to_lowercase();
        if seen.contains(&lower) {
            return fail(
                format!("the tag key {k:?} is duplicated (keys are compared without case)"),
                "merge the duplicate tags",
            );
        }
        seen.push(lower);
        if let Some(vs) = val.as_str() {
            tag_value(k, vs)?;
        }
    }
    Ok(())
}

/// A region id such as `cn-hangzhou`.
pub fn region_id(v: &str) -> Result<(), Fail> {
    let ok = v.len() >= 4
        && v.contains('-')
        && v.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !v.starts_with('-')
        && !v.ends_with('-');
    if ok {
        Ok(())
    } else {
        fail(
            format!("{v:?} is not a region id"),
            "region ids look like cn-hangzhou",
        )
    }
}

fn string_list(
    v: &Value,
    what: &str,
    max: usize,
    each: fn(&str) -> Result<(), Fail>,
) -> Result<(), Fail> {
    let Some(l) = v.as_list() else {
        return fail(format!("{what} must be a list"), "write a list in brackets");
    };
    if l.len() > max {
        return fail(
            format!("at most {max} {what} are allowed; {} are set", l.len()),
            format!("keep at most {max}"),
        );
    }
    let mut seen = Vec::new();
    for e in l {
        if e.is_unknown() {
            continue;
        }
        let t = s(e);
        each(&t)?;
        if seen.contains(&t) {
            return fail(
                format!("{t:?} appears twice in {what}"),
                "remove the duplicate",
            );
        }
        seen.push(t);
    }
    Ok(())
}

/// `ToRegionId.N`: at most 20 region ids.
pub fn to_regions(v: &Value) -> Result<(), Fail> {
    string_list(v, "target regions", 20, region_id)
}

/// `AddAccount.N`: at most 20 numeric account ids.
pub fn accounts(v: &Value) -> Result<(), Fail> {
    string_list(v, "accounts", 20, |a| {
        if !a.is_empty() && a.chars().all(|c| c.is_ascii_digit()) {
            Ok(())
        } else {
            fail(
                format!("{a:?} is not an Alibaba Cloud account id"),
                "account ids are numbers such as 1234567890",
            )
        }
    })
}

/// Pipeline `BuildContent`/`TestContent`: at most 16 KB and 127 commands.
pub fn build_content(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    if t.len() > 16 * 1024 {
        return fail(
            format!(
                "the content is {} bytes; at most 16 KB (16384 bytes) are allowed",
                t.len()
            ),
            "move large scripts to OSS or an image component",
        );
    }
    let commands = t
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .count();
    if commands > 127 {
        return fail(
            format!("the content has {commands} commands; at most 127 are allowed"),
            "combine commands with && in one RUN line",
        );
    }
    content_commands(&t)
}

/// The commands Image Builder content may use.
pub const CONTENT_COMMANDS: &[&str] = &[
    "FROM",
    "RUN",
    "ENV",
    "WORKDIR",
    "COPY",
    "USER",
    "CMD",
    "ENTRYPOINT",
    "LABEL",
    "RESTART",
    "COMPONENT",
];

/// Each line of Image Builder content is a supported command with its content; `FROM`
/// comes once and first; `RESTART` takes nothing (InvalidImageTemplateCommand.NotSupported,
/// DuplicatedCommand.FROM, InvalidCommandOrder.FROM, EmptyCommandContent.*).
fn content_commands(t: &str) -> Result<(), Fail> {
    let lines = t
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    for (i, l) in lines.enumerate() {
        let (cmd, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        let cmd = cmd.to_uppercase();
        if !CONTENT_COMMANDS.contains(&cmd.as_str()) {
            let mut hint = format!("use one of: {}", CONTENT_COMMANDS.join(", "));
            if let Some(m) = crate::diag::did_you_mean(&cmd, CONTENT_COMMANDS.iter().copied()) {
                hint = format!("did you mean {m}?");
            }
            return fail(
                format!("line {}: {cmd:?} is not a supported command", i + 1),
                hint,
            );
        }
        if cmd == "FROM" && i != 0 {
            return fail(
                format!(
                    "line {}: FROM must be the first command, and come once",
                    i + 1
                ),
                "move FROM to the first line",
            );
        }
        match (cmd.as_str(), rest.trim().is_empty()) {
            ("RESTART", false) => {
                return fail(
                    format!("line {}: RESTART takes no content", i + 1),
                    "write RESTART alone on its line",
                )
            }
            ("RESTART", true) => {}
            (_, true) => {
                return fail(
                    format!("line {}: {cmd} has no content", i + 1),
                    format!("write what {cmd} should do after it"),
                )
            }
            _ => {}
        }
    }
    Ok(())
}

/// OSS bucket names: 3–63 characters, lower-case letters, digits and hyphens, not starting
/// or ending with a hyphen.
pub fn oss_bucket(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    let ok = (3..=63).contains(&t.len())
        && t.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !t.starts_with('-')
        && !t.ends_with('-');
    if ok {
        Ok(())
    } else {
        fail(
            format!("{t:?} is not a valid OSS bucket name"),
            "bucket names have 3 to 63 lower-case letters, digits and hyphens, and do not start or end with a hyphen",
        )
    }
}

/// OSS object keys: 1–1023 characters, not a URL.
pub fn oss_object(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    if t.is_empty() || t.chars().count() > 1023 {
        return fail(
            "an OSS object key must be 1 to 1023 characters long",
            "give the object key inside the bucket",
        );
    }
    if let Some(p) = starts_with_any(&t, &["http://", "https://"]) {
        return fail(
            format!("an OSS object key must not start with {p:?}"),
            "give the key inside the bucket, not a URL",
        );
    }
    Ok(())
}

/// Ids with a known prefix (`s-`, `i-`, `m-`, `ip-`, `rg-`, `vsw-`).
pub fn prefixed(v: &Value, prefix: &str, what: &str) -> Result<(), Fail> {
    let t = s(v);
    if t.starts_with(prefix) && t.len() > prefix.len() {
        Ok(())
    } else {
        fail(
            format!("{t:?} is not a {what} id"),
            format!("{what} ids start with {prefix:?}"),
        )
    }
}

/// `s-...`.
pub fn snapshot_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "s-", "snapshot")
}

/// `i-...`.
pub fn instance_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "i-", "instance")
}

/// `rg-...`.
pub fn resource_group_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "rg-", "resource group")
}

/// `vsw-...`.
pub fn vswitch_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "vsw-", "vSwitch")
}

/// `ip-...`.
pub fn pipeline_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "ip-", "image pipeline")
}

/// A valid regular expression (data source `name_regex`).
pub fn regex(v: &Value) -> Result<(), Fail> {
    regex::Regex::new(&s(v)).map(|_| ()).map_err(|e| {
        (
            format!("invalid regular expression: {e}"),
            "check the escaping: HCL strings need \\\\ for a backslash".to_string(),
        )
    })
}

/// `Device` for CreateImage mappings: `/dev/xvda`–`/dev/xvdz`.
pub fn device(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    let ok = t.len() == 9
        && t.starts_with("/dev/xvd")
        && t.chars().last().is_some_and(|c| c.is_ascii_lowercase());
    if ok {
        Ok(())
    } else {
        fail(
            format!("{t:?} is not a device name"),
            "device names run from /dev/xvda (system disk) to /dev/xvdz",
        )
    }
}

/// `ComponentType` of CreateImageComponent: `Build` or `Test`.
pub fn component_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "component type", &["Build", "Test"], false)
}

/// `SystemType` of CreateImageComponent: `Linux` or `Windows`.
pub fn system_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "system type", &["Linux", "Windows"], false)
}

/// CreateImageComponent `Name`: 2–128 characters, starting with a letter, with digits,
/// `:`, `_`, `.` and `-`, not starting with `http://` or `https://`.
pub fn component_name(v: &Value) -> Result<(), Fail> {
    name_rule(
        &s(v),
        "a component name",
        2,
        128,
        &['.', ':', '_', '-'],
        &["http://", "https://"],
    )
}

/// `ComponentVersion`: `major.minor.patch`, each a non-negative integer.
pub fn component_version(v: &Value) -> Result<(), Fail> {
    let t = s(v);
    let parts: Vec<&str> = t.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
    {
        Ok(())
    } else {
        fail(
            format!("{t:?} is not a component version"),
            "versions look like 1.0.0 (major.minor.patch)",
        )
    }
}

/// `m-...`: an image id.
pub fn image_id(v: &Value) -> Result<(), Fail> {
    prefixed(v, "m-", "image")
}

/// A region id attribute.
pub fn region(v: &Value) -> Result<(), Fail> {
    region_id(&s(v))
}

/// One Alibaba Cloud account id (a number).
pub fn account_id(v: &Value) -> Result<(), Fail> {
    let a = s(v);
    if !a.is_empty() && a.len() <= 20 && a.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        fail(
            format!("{a:?} is not an Alibaba Cloud account id"),
            "account ids are numbers such as 1234567890",
        )
    }
}

/// Data source `action_type` (`ActionType` of DescribeImages).
pub fn action_type(v: &Value) -> Result<(), Fail> {
    one_of(v, "action type", &["CreateEcs", "ChangeOS"], false)
}

/// Components data source `owner`: `SELF` or `ALIYUN`.
pub fn component_owner(v: &Value) -> Result<(), Fail> {
    one_of(v, "component owner", &["SELF", "ALIYUN"], false)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rule = fn(&Value) -> Result<(), Fail>;

    fn v(s: &str) -> Value {
        Value::String(s.to_string())
    }

    #[test]
    fn rule_table() {
        let ok: &[(Rule, &str)] = &[
            (image_name, "web-base_1.0:x"),
            (image_name, "中文名"),
            (image_family, "hangzhou-daily-update"),
            (description, "a description"),
            (pipeline_name, "nightly.build"),
            (platform, "Rocky Linux"),
            (import_platform, "Other Windows"),
            (architecture, "arm64"),
            (boot_mode, "UEFI-Preferred"),
            (disk_format, "qcow2"),
            (oss_bucket, "my-bucket-1"),
            (oss_object, "images/disk 1.qcow2"),
            (device, "/dev/xvdb"),
            (snapshot_id, "s-bp1abc"),
            (image_status_list, "Available,Creating"),
        ];
        for (f, val) in ok {
            assert!(f(&v(val)).is_ok(), "{val} should pass");
        }
        let bad: &[(Rule, &str)] = &[
            (image_name, "x"),
            (image_name, "1abc"),
            (image_name, "http://x"),
            (image_name, "aliyun-x"),
            (image_name, "bad name"),
            (image_family, "acs:fam"),
            (image_family, "fam-http://x"),
            (description, "https://example.com"),
            (description, "x"),
            (platform, "Windows 11"),
            (platform, "centos"),
            (architecture, "amd64"),
            (boot_mode, "uefi"),
            (import_boot_mode, "UEFI-Preferred"),
            (os_type, "Linux"),
            (license_type, "GPL"),
            (disk_format, "ISO"),
            (disk_type, "root"),
            (base_image_type, "ISO"),
            (detection_strategy, "Full"),
            (imds_support, "v3"),
            (nvme_support, "auto"),
            (oss_bucket, "My_Bucket"),
            (oss_bucket, "-ab"),
            (oss_object, "https://x/y"),
            (device, "/dev/sda"),
            (snapshot_id, "snap-1"),
            (image_status_list, "Available,Gone"),
            (regex, "("),
        ];
        for (f, val) in bad {
            assert!(f(&v(val)).is_err(), "{val} should fail");
        }
    }

    #[test]
    fn ranges() {
        assert!(system_disk_size(&Value::Number(20.0)).is_ok());
        assert!(system_disk_size(&Value::Number(501.0)).is_err());
        assert!(bandwidth(&Value::Number(101.0)).is_err());
        assert!(disk_image_size(&Value::Number(0.0)).is_err());
        assert!(disk_image_size(&Value::Number(2048.0)).is_ok());
        assert!(mapping_size(&Value::Number(32769.0)).is_err());
    }

    #[test]
    fn tag_rules() {
        let mut m = std::collections::BTreeMap::new();
        for i in 0..21 {
            m.insert(format!("k{i}"), v("x"));
        }
        assert!(tags(&Value::Map(m)).is_err());
        let mut m = std::collections::BTreeMap::new();
        m.insert("Env".to_string(), v("a"));
        m.insert("env".to_string(), v("b"));
        assert!(tags(&Value::Map(m)).is_err());
        assert!(tag_key("acs:x").is_err());
        assert!(tag_value("k", "acs:v").is_err());
        assert!(tag_value("k", "").is_ok());
    }

    #[test]
    fn content_limits() {
        assert!(build_content(&v(&"RUN x\n".repeat(128))).is_err());
        assert!(build_content(&v(&"x".repeat(16 * 1024 + 1))).is_err());
        assert!(build_content(&v("RUN yum -y update")).is_ok());
        assert!(accounts(&Value::List(vec![v("12ab")])).is_err());
        assert!(to_regions(&Value::List(vec![v("cn-beijing"), v("cn-beijing")])).is_err());
    }
}
