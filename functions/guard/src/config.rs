//! The Lambda's configuration (SPEC §6), read once per container.

use crossguard_engine::{Allowlist, Mode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// A path in the package, or `s3://bucket/key`.
    pub allowlist: String,
    pub alert_topic_arn: String,
    pub evidence_bucket: String,
    /// Replaces the allowlist's default mode; `[[mode_override]]` entries still apply.
    pub mode: Option<Mode>,
    /// How to act on resources of other accounts (`MEMBER_ROLE_NAME`,
    /// `MEMBER_EXTERNAL_ID`); `None`: only the function's own account.
    pub member: Option<crate::accounts::MemberAccess>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set: {1}")]
    Missing(&'static str, &'static str),
    #[error("MODE={0:?} must be alert, remediate or dry-run")]
    Mode(String),
    #[error("allowlist {location}: {reason}")]
    Allowlist { location: String, reason: String },
}

impl Config {
    /// From the environment (`var` is `std::env::var` in the Lambda).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let need = |name: &'static str, what: &'static str| {
            var(name)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing(name, what))
        };
        let mode = match var("MODE").filter(|m| !m.trim().is_empty()) {
            None => None,
            Some(m) => Some(Mode::parse(m.trim()).ok_or(ConfigError::Mode(m))?),
        };
        Ok(Config {
            allowlist: need("ALLOWLIST", "a path in the package or s3://bucket/key")?,
            alert_topic_arn: need("ALERT_TOPIC_ARN", "the SNS topic alerts go to")?,
            evidence_bucket: need("EVIDENCE_BUCKET", "the S3 bucket evidence goes to")?,
            mode,
            member: var("MEMBER_ROLE_NAME")
                .filter(|v| !v.trim().is_empty())
                .map(|role_name| crate::accounts::MemberAccess {
                    role_name,
                    external_id: var("MEMBER_EXTERNAL_ID").filter(|v| !v.is_empty()),
                }),
        })
    }
}

/// Read and check the allowlist from a file or S3, then apply `MODE`.
pub async fn load_allowlist(
    config: &Config,
    s3: &aws_sdk_s3::Client,
) -> Result<Allowlist, ConfigError> {
    let location = config.allowlist.clone();
    let fail = |reason: String| ConfigError::Allowlist {
        location: location.clone(),
        reason,
    };
    let text = match location.strip_prefix("s3://") {
        Some(rest) => {
            let (bucket, key) = rest
                .split_once('/')
                .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                .ok_or_else(|| fail("an S3 location is s3://bucket/key".into()))?;
            let bytes = crate::aws::get_object(s3, bucket, key)
                .await
                .map_err(|e| fail(e.to_string()))?
                .ok_or_else(|| fail(format!("no object {key} in bucket {bucket}")))?;
            String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?
        }
        None => std::fs::read_to_string(&location).map_err(|e| fail(e.to_string()))?,
    };
    let mut allowlist =
        Allowlist::from_toml(&text, &location).map_err(|e| fail(format!("\n{e}")))?;
    if let Some(mode) = config.mode {
        allowlist.mode = mode;
    }
    Ok(allowlist)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    #[test]
    fn reads_the_environment() {
        let base = [
            ("ALLOWLIST", "allowlist.toml"),
            ("ALERT_TOPIC_ARN", "arn:aws:sns:us-east-1:1:t"),
            ("EVIDENCE_BUCKET", "ev"),
        ];
        let c = Config::from_env(env(&base)).unwrap();
        assert_eq!(c.mode, None);
        assert_eq!(c.evidence_bucket, "ev");

        let mut with_mode = base.to_vec();
        with_mode.push(("MODE", "dry-run"));
        assert_eq!(
            Config::from_env(env(&with_mode)).unwrap().mode,
            Some(Mode::DryRun)
        );

        with_mode.pop();
        with_mode.push(("MODE", "fix"));
        let e = Config::from_env(env(&with_mode)).unwrap_err().to_string();
        assert!(e.contains("MODE=\"fix\""), "{e}");

        let e = Config::from_env(env(&base[..2])).unwrap_err().to_string();
        assert!(e.contains("EVIDENCE_BUCKET is not set"), "{e}");
    }
}
