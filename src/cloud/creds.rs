//! The credential chain, first found wins: the provider block's literal keys (accepted with a
//! warning at validation), `ALIBABA_CLOUD_ACCESS_KEY_ID`/`_SECRET`/`ALIBABA_CLOUD_SECURITY_TOKEN`,
//! the provider's legacy `ALICLOUD_ACCESS_KEY`/`ALICLOUD_SECRET_KEY`/`ALICLOUD_SECURITY_TOKEN`,
//! then the aliyun CLI's `~/.aliyun/config.json` (profile from the provider's `profile`,
//! `ALIBABA_CLOUD_PROFILE`, or the file's `current`; modes `AK` and `StsToken`).
//!
//! Secrets never appear in `Debug` output or errors.

use super::error::Error;
use std::fmt;
use std::path::{Path, PathBuf};

/// An AccessKey pair, optionally with an STS token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// AccessKeyId.
    pub access_key_id: String,
    /// AccessKeySecret.
    pub access_key_secret: String,
    /// STS security token.
    pub security_token: Option<String>,
    /// Where they came from, for logs.
    pub source: String,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("access_key_secret", &"<redacted>")
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("source", &self.source)
            .finish()
    }
}

/// Inputs of the chain, injected so tests need no real environment.
pub struct Lookup<'a> {
    /// Reads an environment variable.
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The home directory.
    pub home: Option<PathBuf>,
    /// The provider's `profile`.
    pub profile: Option<String>,
    /// The provider's literal `access_key`/`secret_key`/`security_token`.
    pub literal: Option<(String, String, Option<String>)>,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.is_empty())
}

/// Resolves credentials; the error lists every place imgform looked.
pub fn resolve(l: &Lookup) -> Result<Credentials, Error> {
    if let Some((id, secret, token)) = &l.literal {
        return Ok(Credentials {
            access_key_id: id.clone(),
            access_key_secret: secret.clone(),
            security_token: token.clone(),
            source: "the provider block".into(),
        });
    }
    let env = |k: &str| nonempty((l.env)(k));
    for (id, secret, token, what) in [
        (
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
            "ALIBABA_CLOUD_SECURITY_TOKEN",
            "ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET",
        ),
        (
            "ALICLOUD_ACCESS_KEY",
            "ALICLOUD_SECRET_KEY",
            "ALICLOUD_SECURITY_TOKEN",
            "ALICLOUD_ACCESS_KEY/ALICLOUD_SECRET_KEY",
        ),
    ] {
        match (env(id), env(secret)) {
            (Some(i), Some(s)) => {
                return Ok(Credentials {
                    access_key_id: i,
                    access_key_secret: s,
                    security_token: env(token),
                    source: what.into(),
                })
            }
            (Some(_), None) => {
                return Err(Error::Credentials(format!(
                    "{id} is set but {secret} is not"
                )))
            }
            (None, Some(_)) => {
                return Err(Error::Credentials(format!(
                    "{secret} is set but {id} is not"
                )))
            }
            _ => {}
        }
    }
    let path = l
        .home
        .as_ref()
        .map(|h| h.join(".aliyun").join("config.json"));
    let wanted = l.profile.clone().or_else(|| env("ALIBABA_CLOUD_PROFILE"));
    if let Some(p) = path.as_ref().filter(|p| p.is_file()) {
        return from_profile_file(p, wanted.as_deref());
    }
    Err(Error::Credentials(format!(
        "the provider block (access_key/secret_key), ALIBABA_CLOUD_ACCESS_KEY_ID + ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALICLOUD_ACCESS_KEY + ALICLOUD_SECRET_KEY, and {} (not found). Set the two environment variables, or run `aliyun configure`; to try imgform without an account use --cloud local",
        path.map(|p| p.display().to_string()).unwrap_or_else(|| "~/.aliyun/config.json".into())
    )))
}

fn from_profile_file(path: &Path, wanted: Option<&str>) -> Result<Credentials, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Credentials(format!("{}: {e}", path.display())))?;
    let doc: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| Error::Config(format!("{} is not valid JSON: {e}", path.display())))?;
    let name = wanted
        .map(String::from)
        .or_else(|| doc["current"].as_str().map(String::from))
        .unwrap_or_else(|| "default".into());
    let profiles = doc["profiles"].as_array().cloned().unwrap_or_default();
    let Some(p) = profiles
        .iter()
        .find(|p| p["name"].as_str() == Some(name.as_str()))
    else {
        let names: Vec<&str> = profiles.iter().filter_map(|p| p["name"].as_str()).collect();
        return Err(Error::Credentials(format!(
            "{}: there is no profile {name:?} (profiles: {})",
            path.display(),
            names.join(", ")
        )));
    };
    let s = |k: &str| p[k].as_str().filter(|v| !v.is_empty()).map(String::from);
    let mode = s("mode").unwrap_or_else(|| "AK".into());
    let (Some(id), Some(secret)) = (s("access_key_id"), s("access_key_secret")) else {
        return Err(Error::Credentials(format!(
            "{}: profile {name:?} has no access_key_id/access_key_secret",
            path.display()
        )));
    };
    let token = match mode.as_str() {
        "AK" => None,
        "StsToken" => Some(s("sts_token").ok_or_else(|| {
            Error::Credentials(format!(
                "{}: profile {name:?} is StsToken mode but has no sts_token",
                path.display()
            ))
        })?),
        other => {
            return Err(Error::Config(format!(
            "{}: profile {name:?} uses mode {other:?}; imgform supports the AK and StsToken modes",
            path.display()
        )))
        }
    };
    Ok(Credentials {
        access_key_id: id,
        access_key_secret: secret,
        security_token: token,
        source: format!("profile {name:?} in {}", path.display()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup<'a>(
        env: &'a dyn Fn(&str) -> Option<String>,
        home: Option<PathBuf>,
        profile: Option<&str>,
    ) -> Lookup<'a> {
        Lookup {
            env,
            home,
            profile: profile.map(String::from),
            literal: None,
        }
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn precedence_and_each_source() {
        let home = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(home.path().join(".aliyun")).expect("mkdir");
        std::fs::write(
            home.path().join(".aliyun/config.json"),
            r#"{"current":"default","profiles":[
              {"name":"default","mode":"AK","access_key_id":"file-id","access_key_secret":"file-secret"},
              {"name":"sts","mode":"StsToken","access_key_id":"sts-id","access_key_secret":"sts-secret","sts_token":"tok"},
              {"name":"ram","mode":"RamRoleArn","access_key_id":"a","access_key_secret":"b"}]}"#,
        )
        .expect("write");
        let h = Some(home.path().to_path_buf());
        let both = env_of(&[
            ("ALIBABA_CLOUD_ACCESS_KEY_ID", "new-id"),
            ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "new-secret"),
            ("ALICLOUD_ACCESS_KEY", "old-id"),
            ("ALICLOUD_SECRET_KEY", "old-secret"),
        ]);
        assert_eq!(
            resolve(&lookup(&both, h.clone(), None))
                .expect("env")
                .access_key_id,
            "new-id"
        );
        let legacy = env_of(&[
            ("ALICLOUD_ACCESS_KEY", "old-id"),
            ("ALICLOUD_SECRET_KEY", "old-secret"),
            ("ALICLOUD_SECURITY_TOKEN", "t"),
        ]);
        let c = resolve(&lookup(&legacy, h.clone(), None)).expect("legacy");
        assert_eq!(
            (c.access_key_id.as_str(), c.security_token.as_deref()),
            ("old-id", Some("t"))
        );
        let none = env_of(&[]);
        assert_eq!(
            resolve(&lookup(&none, h.clone(), None))
                .expect("file")
                .access_key_id,
            "file-id"
        );
        let c = resolve(&lookup(&none, h.clone(), Some("sts"))).expect("sts");
        assert_eq!(c.security_token.as_deref(), Some("tok"));
        let by_env = env_of(&[("ALIBABA_CLOUD_PROFILE", "sts")]);
        assert_eq!(
            resolve(&lookup(&by_env, h.clone(), None))
                .expect("sts")
                .access_key_id,
            "sts-id"
        );
        assert!(resolve(&lookup(&none, h.clone(), Some("ram"))).is_err());
        assert!(resolve(&lookup(&none, h.clone(), Some("nope"))).is_err());
        let mut l = lookup(&both, h, None);
        l.literal = Some(("lit".into(), "lit-secret".into(), None));
        assert_eq!(resolve(&l).expect("literal").access_key_id, "lit");
    }

    #[test]
    fn missing_credentials_list_every_place() {
        let none = env_of(&[]);
        let err = resolve(&lookup(&none, Some(PathBuf::from("/nonexistent")), None))
            .expect_err("nothing");
        let s = err.to_string();
        for place in [
            "ALIBABA_CLOUD_ACCESS_KEY_ID",
            "ALICLOUD_ACCESS_KEY",
            "/nonexistent/.aliyun/config.json",
            "--cloud local",
        ] {
            assert!(s.contains(place), "{s}");
        }
        let half = env_of(&[("ALIBABA_CLOUD_ACCESS_KEY_ID", "x")]);
        let msg = resolve(&lookup(&half, None, None))
            .expect_err("half")
            .to_string();
        assert!(
            msg.contains(
                "ALIBABA_CLOUD_ACCESS_KEY_ID is set but ALIBABA_CLOUD_ACCESS_KEY_SECRET is not"
            ),
            "{msg}"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let c = Credentials {
            access_key_id: "id".into(),
            access_key_secret: "s3cr3t".into(),
            security_token: Some("t0k3n".into()),
            source: "x".into(),
        };
        let d = format!("{c:?}");
        assert!(!d.contains("s3cr3t") && !d.contains("t0k3n"), "{d}");
    }
}
