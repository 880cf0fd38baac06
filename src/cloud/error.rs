//! One error type for every way a call to the ECS API can fail, carrying what a person needs
//! to act: the HTTP status, the cloud's Code, Message and RequestId, its Recommend link, and
//! a hint for the codes users hit most.

use std::fmt;
use std::time::Duration;

/// An error answer from the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The action called.
    pub action: String,
    /// HTTP status.
    pub status: u16,
    /// `Code`, e.g. `InvalidImageName.Duplicated`.
    pub code: String,
    /// `Message`.
    pub message: String,
    /// `RequestId` (for support tickets).
    pub request_id: String,
    /// `Recommend`: the error-center link.
    pub recommend: String,
    /// `x-acs-retry-after`, when the server asked for a delay.
    pub retry_after: Option<Duration>,
}

/// Everything that can go wrong in the client.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// The cloud answered with an error.
    #[error("{0}")]
    Api(Box<ApiError>),
    /// No answer: connection refused or reset, DNS, TLS, timeout.
    #[error("{action}: cannot reach {endpoint}: {message}")]
    Transport {
        /// The action called.
        action: String,
        /// The endpoint.
        endpoint: String,
        /// What happened.
        message: String,
    },
    /// The answer was not what the API returns (not JSON, or wrongly shaped).
    #[error("{action}: the response from the cloud is not valid: {reason} (RequestId {request_id}); body starts with: {snippet}")]
    Decode {
        /// The action called.
        action: String,
        /// Why it could not be read.
        reason: String,
        /// The request id, if any.
        request_id: String,
        /// The first bytes of the body.
        snippet: String,
    },
    /// No credentials were found.
    #[error("no Alibaba Cloud credentials found; imgform looked in: {0}")]
    Credentials(String),
    /// A configuration problem (endpoint, region, profile).
    #[error("{0}")]
    Config(String),
    /// The run was interrupted before the request was sent (nothing was asked of the cloud).
    #[error("{action} was not sent: the run was interrupted")]
    Interrupted {
        /// The action that was not called.
        action: String,
    },
    /// The caller's deadline passed while retrying.
    #[error("{action}: gave up after {attempts} attempt(s) because the deadline passed; last error: {last}")]
    Deadline {
        /// The action called.
        action: String,
        /// Attempts made.
        attempts: u32,
        /// The last error.
        last: Box<Error>,
    },
}

impl Error {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::Api(a) => Some(a.as_ref()),
            Error::Deadline { last, .. } => last.api(),
            _ => None,
        }
    }

    /// The cloud's error code, if any.
    pub fn code(&self) -> Option<&str> {
        self.api().map(|a| a.code.as_str())
    }

    /// Whether the cloud may have carried out the request although no success came back:
    /// no answer (reset, timeout, unreachable after the request may have left), an answer
    /// that could not be read, a server error (5xx), or retries that ran out. Only a
    /// definite refusal — an error answer below 500 with a Code, or a request that was
    /// never sent (credentials, configuration) — is known to have changed nothing.
    pub fn may_have_acted(&self) -> bool {
        match self {
            Error::Api(a) => a.status >= 500,
            Error::Transport { .. } | Error::Decode { .. } | Error::Deadline { .. } => true,
            Error::Credentials(_) | Error::Config(_) | Error::Interrupted { .. } => false,
        }
    }
}

/// A hint for the codes users hit most.
pub fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "NoSetRoletoECSServiceAcount" | "NoSetRoletoECSServiceAccount" | "InvalidOperation.NoRightAccessOSS" => {
            "ECS may not read your OSS bucket yet: create the RAM role AliyunECSImageImportDefaultRole trusted by ecs.aliyuncs.com and attach AliyunECSImageImportRolePolicy (one click in the RAM console)"
        }
        "InvalidAccessKeyId.NotFound" | "InvalidAccessKeyId" => {
            "the AccessKey id is not known: check ALIBABA_CLOUD_ACCESS_KEY_ID or the profile in ~/.aliyun/config.json"
        }
        "SignatureDoesNotMatch" | "IncompleteSignature" | "InvalidAccessKeySecret" => {
            "the AccessKey secret does not match the id: check ALIBABA_CLOUD_ACCESS_KEY_SECRET; if it is right, check that the clock of this machine is correct"
        }
        "Forbidden.RAM" | "Forbidden" | "NoPermission" => {
            "the RAM user or role lacks a permission: grant the ecs:* actions in the message to it (AliyunECSFullAccess covers them)"
        }
        "QuotaExceed.Image" => "the region's custom image quota is used up: delete unused images or ask for a higher quota in the Quota Center",
        "InvalidImageName.Duplicated" => {
            "an image of this name already exists in the region: rename the image, or adopt the existing one with `imgform import ADDR m-...`"
        }
        "IdempotenceParamNotMatch" | "IdempotentParameterMismatch" | "InvalidParamter.Conflict" => {
            "a create was sent again with the same ClientToken but different parameters: the configuration changed while a create was pending; finish or discard the pending create (`imgform state rm`) and plan again"
        }
        "InvalidSnapshotId.NotFound" => "the snapshot does not exist in this region: check the id and the provider's region",
        "IncorrectInstanceStatus" => "the instance must be Running or Stopped to create an image from it",
        "ImageIsCreating" | "ImageIsImporting" => "the image is still being created; imgform waits and retries deletion",
        "InvalidOSSObject.NotFound" | "InvalidOSSBucket.NotFound" => {
            "the OSS object must exist in the same region and account as the import"
        }
        "InvalidRegionId.NotFound" | "InvalidRegion.NotSupport" => "check the provider's region",
        c if c.starts_with("Throttling") => "the API rate limit was reached; imgform retries with backoff",
        _ => return None,
    })
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}: {} (HTTP {}, RequestId {})",
            self.action,
            self.code,
            self.message,
            self.status,
            if self.request_id.is_empty() {
                "none"
            } else {
                &self.request_id
            }
        )?;
        if let Some(h) = hint(&self.code) {
            write!(f, "\n  hint: {h}")?;
        }
        if !self.recommend.is_empty() {
            write!(f, "\n  see: {}", self.recommend)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_definite_refusal_is_known_to_have_changed_nothing() {
        let api = |status: u16, code: &str| {
            Error::Api(Box::new(ApiError {
                action: "CreateImage".into(),
                status,
                code: code.into(),
                message: String::new(),
                request_id: String::new(),
                recommend: String::new(),
                retry_after: None,
            }))
        };
        assert!(!api(400, "InvalidSnapshotId.NotFound").may_have_acted());
        assert!(!api(403, "QuotaExceed.Image").may_have_acted());
        assert!(api(500, "InternalError").may_have_acted());
        assert!(api(503, "ServiceUnavailable").may_have_acted());
        let transport = Error::Transport {
            action: "CreateImage".into(),
            endpoint: "x".into(),
            message: "connection reset".into(),
        };
        assert!(transport.may_have_acted());
        assert!(Error::Deadline {
            action: "CreateImage".into(),
            attempts: 5,
            last: Box::new(api(400, "Throttling.User")),
        }
        .may_have_acted());
        assert!(!Error::Credentials("none".into()).may_have_acted());
    }

    #[test]
    fn renders_code_message_request_id_and_hint() {
        let e = Error::Api(Box::new(ApiError {
            action: "CreateImage".into(),
            status: 400,
            code: "InvalidImageName.Duplicated".into(),
            message: "The specified image name is already in use.".into(),
            request_id: "REQ-1".into(),
            recommend: "https://next.api.aliyun.com/troubleshoot?q=InvalidImageName.Duplicated"
                .into(),
            retry_after: None,
        }));
        let s = e.to_string();
        assert!(s.starts_with("CreateImage failed: InvalidImageName.Duplicated: The specified image name is already in use. (HTTP 400, RequestId REQ-1)"), "{s}");
        assert!(
            s.contains("hint: an image of this name already exists"),
            "{s}"
        );
        assert!(s.contains("see: https://next.api.aliyun.com"), "{s}");
        for code in [
            "NoSetRoletoECSServiceAcount",
            "InvalidAccessKeyId.NotFound",
            "SignatureDoesNotMatch",
            "Forbidden.RAM",
            "QuotaExceed.Image",
            "IdempotenceParamNotMatch",
            "Throttling.User",
        ] {
            assert!(hint(code).is_some(), "{code}");
        }
    }
}
