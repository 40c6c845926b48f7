//! The Lambda's configuration (SPEC §6), read once per container from the environment.
//! Pure: where the allowlist is and how it is checked are decided here; reading it (the
//! package, S3) is [`crate::load_allowlist`]'s.

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
    /// The function's own account (`ACCOUNT_ID`, set by the template): known, it saves
    /// the STS call at start, so a cold start makes no network call before the first
    /// event. `None`: asked of STS.
    pub account: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is not set: {1}")]
    Missing(&'static str, &'static str),
    #[error("environment variable {0} must be {1}")]
    Invalid(&'static str, &'static str),
    #[error("MODE={0:?} must be alert, remediate or dry-run")]
    Mode(String),
    #[error("ACCOUNT_ID={0:?} is not a 12-digit account id")]
    Account(String),
    #[error("the function's own account is unknown (set ACCOUNT_ID): {0}")]
    OwnAccount(String),
    #[error("{0} is set, but the functions read only AWS_REGION, AWS_ENDPOINT_URL, AWS_USE_FIPS_ENDPOINT, AWS_USE_DUALSTACK_ENDPOINT, AWS_MAX_ATTEMPTS and Lambda's credentials: unset it")]
    Unread(String),
    #[error("allowlist {location}: {reason}")]
    Allowlist { location: String, reason: String },
    #[error("GUARD_DEPLOYMENT: {0}")]
    Deployment(String),
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
        let account = match var("ACCOUNT_ID").filter(|a| !a.trim().is_empty()) {
            None => None,
            Some(a) if crossguard_engine::principal::is_account_id(a.trim()) => {
                Some(a.trim().to_string())
            }
            Some(a) => return Err(ConfigError::Account(a)),
        };
        Ok(Config {
            account,
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

/// Where the allowlist is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowlistAt {
    /// A path in the function's package.
    File(String),
    /// An S3 object.
    S3 { bucket: String, key: String },
}

impl Config {
    /// Where `ALLOWLIST` says the allowlist is.
    pub fn allowlist_at(&self) -> Result<AllowlistAt, ConfigError> {
        match self.allowlist.strip_prefix("s3://") {
            Some(rest) => rest
                .split_once('/')
                .filter(|(b, k)| !b.is_empty() && !k.is_empty())
                .map(|(bucket, key)| AllowlistAt::S3 {
                    bucket: bucket.to_string(),
                    key: key.to_string(),
                })
                .ok_or_else(|| self.allowlist_fault("an S3 location is s3://bucket/key".into())),
            None => Ok(AllowlistAt::File(self.allowlist.clone())),
        }
    }

    /// A fault of the allowlist, naming where it is.
    pub fn allowlist_fault(&self, reason: String) -> ConfigError {
        ConfigError::Allowlist {
            location: self.allowlist.clone(),
            reason,
        }
    }

    /// Check the allowlist's text and apply `MODE`.
    pub fn allowlist_from(&self, text: &str) -> Result<Allowlist, ConfigError> {
        let mut allowlist = Allowlist::from_toml(text, &self.allowlist)
            .map_err(|e| self.allowlist_fault(format!("\n{e}")))?;
        if let Some(mode) = self.mode {
            allowlist.mode = mode;
        }
        Ok(allowlist)
    }
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

        assert_eq!(c.account, None, "asked of STS when not configured");
        let mut with_account = base.to_vec();
        with_account.push(("ACCOUNT_ID", "222222222222"));
        assert_eq!(
            Config::from_env(env(&with_account))
                .unwrap()
                .account
                .as_deref(),
            Some("222222222222")
        );
        with_account.pop();
        with_account.push(("ACCOUNT_ID", "2222"));
        let e = Config::from_env(env(&with_account))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ACCOUNT_ID=\"2222\""), "{e}");
    }

    #[test]
    fn says_where_the_allowlist_is_and_applies_mode() {
        let mut c = Config::from_env(env(&[
            ("ALLOWLIST", "s3://cfg/allow/list.toml"),
            ("ALERT_TOPIC_ARN", "t"),
            ("EVIDENCE_BUCKET", "ev"),
            ("MODE", "remediate"),
        ]))
        .unwrap();
        assert_eq!(
            c.allowlist_at().unwrap(),
            AllowlistAt::S3 {
                bucket: "cfg".into(),
                key: "allow/list.toml".into()
            }
        );
        let al = c.allowlist_from("version = 1\nmode = \"alert\"\n").unwrap();
        assert_eq!(
            al.mode,
            Mode::Remediate,
            "MODE wins over the file's default"
        );
        let e = c.allowlist_from("version = 2\n").unwrap_err().to_string();
        assert!(e.starts_with("allowlist s3://cfg/allow/list.toml:"), "{e}");
        c.allowlist = "s3://only-bucket".into();
        assert!(c.allowlist_at().is_err());
        c.allowlist = "allowlist.toml".into();
        assert_eq!(
            c.allowlist_at().unwrap(),
            AllowlistAt::File("allowlist.toml".into())
        );
    }
}
