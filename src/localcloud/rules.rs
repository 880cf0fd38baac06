//! The simulated cloud's own validation rules, written from the error codes of the ECS API
//! pages (`shared/seeds/`: each error's description states the rule the server applies),
//! apart from the client's checks in `resource::rules`. Two implementations of one rule
//! are the point: when the client's check is wrong, the local cloud, like ECS, still
//! refuses, and the tests see the difference instead of both sides agreeing on a mistake.
//! Each rule answers only whether the value is accepted; the error code and message are
//! the caller's, as on the API page.

/// A letter as the pages mean it: a Latin letter or a Chinese character.
fn letter(c: char) -> bool {
    c.is_ascii_alphabetic()
        || ('\u{3400}'..='\u{4dbf}').contains(&c)
        || ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// A name of `min..=max` characters that starts with a letter, holds only letters, digits
/// and `.:_-`, and starts with none of `reserved`.
fn name(v: &str, min: usize, max: usize, reserved: &[&str]) -> bool {
    let n = v.chars().count();
    (min..=max).contains(&n)
        && v.chars().next().is_some_and(letter)
        && v.chars()
            .all(|c| letter(c) || c.is_ascii_digit() || ".:_-".contains(c))
        && !reserved.iter().any(|p| v.starts_with(p))
}

fn has_url(v: &str) -> bool {
    v.contains("http://") || v.contains("https://")
}

/// `InvalidImageName.Malformed`: 2 to 128 characters, starts with a letter, not with
/// `acs:` or `aliyun`; letters, digits, `.`, `:`, `_`, `-`; no `http://` or `https://`.
pub(super) fn image_name(v: &str) -> bool {
    name(v, 2, 128, &["acs:", "aliyun"]) && !has_url(v)
}

/// The `ImageName` prefix of a pipeline's output images (`InvalidImageName.Malformed` of
/// CreateImagePipeline): 2 to 64 characters, the image name's alphabet, no URL.
pub(super) fn image_name_prefix(v: &str) -> bool {
    name(v, 2, 64, &[]) && !has_url(v)
}

/// `InvalidDescription.Malformed`: 2 to 256 characters, not starting with `http://` or
/// `https://`.
pub(super) fn description(v: &str) -> bool {
    (2..=256).contains(&v.chars().count())
        && !v.starts_with("http://")
        && !v.starts_with("https://")
}

/// `InvalidImageFamily.Malformed`: 2 to 128 characters, starts with a letter, not with
/// `acs:` or `aliyun`; no URL anywhere.
pub(super) fn image_family(v: &str) -> bool {
    name(v, 2, 128, &["acs:", "aliyun"]) && !has_url(v)
}

/// A pipeline's `Name` (`InvalidName.Malformed`): 2 to 128 characters, starts with a
/// letter, the image name's alphabet, no URL.
pub(super) fn pipeline_name(v: &str) -> bool {
    name(v, 2, 128, &[]) && !has_url(v)
}

/// An image component's `Name`: as a pipeline's.
pub(super) fn component_name(v: &str) -> bool {
    pipeline_name(v)
}

/// An image component's `ComponentVersion`: `major.minor.patch`, each a whole number.
pub(super) fn component_version(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// The operating system distributions `Platform` takes (CreateImage, ImportImage).
const PLATFORMS: &[&str] = &[
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

/// CreateImage's `Platform`.
pub(super) fn platform(v: &str) -> bool {
    PLATFORMS.contains(&v)
}

/// ImportImage's `Platform`: CreateImage's, and `Other Windows`.
pub(super) fn import_platform(v: &str) -> bool {
    v == "Other Windows" || platform(v)
}

/// `InvalidDevice.Malformed`: `/dev/xvda` to `/dev/xvdz`.
pub(super) fn device(v: &str) -> bool {
    v.strip_prefix("/dev/xvd")
        .is_some_and(|s| s.len() == 1 && s.bytes().all(|b| b.is_ascii_lowercase()))
}

/// An OSS bucket name: 3 to 63 lower-case letters, digits and hyphens, not starting or
/// ending with a hyphen.
pub(super) fn oss_bucket(v: &str) -> bool {
    (3..=63).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !v.starts_with('-')
        && !v.ends_with('-')
}

/// An OSS object key: 1 to 1023 characters, not a URL.
pub(super) fn oss_object(v: &str) -> bool {
    (1..=1023).contains(&v.chars().count())
        && !v.starts_with("http://")
        && !v.starts_with("https://")
}

/// `InvalidTagKey.Malformed`: 1 to 128 characters, not starting with `aliyun` or `acs:`,
/// no URL.
pub(super) fn tag_key(k: &str) -> bool {
    (1..=128).contains(&k.chars().count())
        && !k.starts_with("aliyun")
        && !k.starts_with("acs:")
        && !has_url(k)
}

/// `InvalidTagValue.Malformed`: at most 128 characters, not starting with `acs:`, no URL.
pub(super) fn tag_value(v: &str) -> bool {
    v.chars().count() <= 128 && !v.starts_with("acs:") && !has_url(v)
}

/// A region id as ECS writes them: lower-case words and digits joined by hyphens.
pub(super) fn region_id(v: &str) -> bool {
    v.len() >= 4
        && v.split('-').count() >= 2
        && v.split('-').all(|w| {
            !w.is_empty()
                && w.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// The commands of an image template (CreateImagePipeline's `BuildContent`, an image
/// component's `Content`).
pub(super) const CONTENT_COMMANDS: &[&str] = &[
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_error_descriptions() {
        assert!(image_name("web-1.0:a_b"));
        assert!(image_name("镜像一"));
        assert!(!image_name("w"));
        assert!(!image_name("1web"));
        assert!(!image_name("aliyun-web"));
        assert!(!image_name("acs:web"));
        assert!(!image_name("web/1"));
        assert!(!image_name(&"w".repeat(129)));
        assert!(image_name_prefix(&"w".repeat(64)) && !image_name_prefix(&"w".repeat(65)));
        assert!(description("ok") && !description("x") && !description("https://x.y"));
        assert!(!image_family("acs:x") && image_family("ubuntu-22"));
        assert!(
            component_version("1.0.12") && !component_version("1.0") && !component_version("1.a.0")
        );
        assert!(
            device("/dev/xvda")
                && device("/dev/xvdz")
                && !device("/dev/xvdaa")
                && !device("/dev/sda")
        );
        assert!(
            oss_bucket("my-bucket-1")
                && !oss_bucket("My")
                && !oss_bucket("-ab")
                && !oss_bucket("ab")
        );
        assert!(oss_object("a/b.raw") && !oss_object("") && !oss_object("https://x"));
        assert!(tag_key("team") && !tag_key("") && !tag_key("aliyun:x") && !tag_key("acs:x"));
        assert!(tag_value("") && !tag_value("acs:x") && !tag_value(&"v".repeat(129)));
        assert!(
            region_id("cn-hangzhou")
                && region_id("ap-southeast-1")
                && !region_id("cn_hangzhou")
                && !region_id("cn-")
        );
        assert!(
            platform("Ubuntu") && !platform("Other Windows") && import_platform("Other Windows")
        );
    }
}
