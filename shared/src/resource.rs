//! The guarded resources: buckets, roles, keys, queues, topics, functions, secrets,
//! repositories and event buses. What differs between kinds is in the registry
//! ([`crate::kinds`]).

use crate::kinds::NameIn;
pub use crate::kinds::ResourceKind;
use crate::principal::{is_account_id, parse_arn, partition_of_region};
use serde::Serialize;

/// One guarded resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    /// Its kind.
    pub kind: ResourceKind,
    /// Bucket name, role name (without path), key id, queue or topic name, function
    /// name (with `:QUALIFIER` for an alias's or version's policy), secret name (without
    /// the ARN's random suffix), repository name, bus name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The account that owns the resource (12 digits).
    pub account: String,
    /// Its region, when known (buckets and roles are global by ARN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `KIND/NAME`, made once: allowlist globs match it for every grant.
    #[serde(skip)]
    spec: String,
}

fn kind_names() -> String {
    let names: Vec<&str> = crate::kinds::KINDS.iter().map(|k| k.name).collect();
    names.join(", ")
}

/// Why a resource cannot be named.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    /// Not a 12-digit account.
    #[error("{0:?} is not a 12-digit AWS account id")]
    Account(String),
    /// Not `KIND/NAME` with a known kind.
    #[error("resource {0:?} must be KIND/NAME with KIND one of {names}", names = kind_names())]
    Spec(String),
    /// A name that is empty, too long, or holds a control character or `*`.
    #[error("{kind} name {name:?} is not valid")]
    Name {
        /// The kind.
        kind: ResourceKind,
        /// The name refused.
        name: String,
    },
}

impl Resource {
    /// Build a resource, deriving its ARN. `name` may also be the resource's ARN.
    pub fn new(
        kind: ResourceKind,
        name: &str,
        account: &str,
        region: Option<&str>,
    ) -> Result<Resource, ResourceError> {
        if !is_account_id(account) {
            return Err(ResourceError::Account(account.to_string()));
        }
        let spec = kind.spec();
        let partition = partition_of_region(region.unwrap_or("us-east-1"));
        let (name, arn) = match parse_arn(name) {
            Some(arn) => {
                let short = match spec.name_in {
                    // role/path/to/Name → Name
                    NameIn::LastPart => arn.resource.rsplit('/').next().unwrap_or(""),
                    // key/ID → ID. An ARN of another kind keeps its whole resource part,
                    // and so names no resource of this one.
                    NameIn::AfterPrefix => arn
                        .resource
                        .strip_prefix(spec.arn_prefix)
                        .unwrap_or(arn.resource),
                    // secret:db-AbCdEf → db: allowlists name secrets as they were named.
                    NameIn::SecretName => {
                        let full = arn
                            .resource
                            .strip_prefix(spec.arn_prefix)
                            .unwrap_or(arn.resource);
                        match full.rsplit_once('-') {
                            Some((name, suffix))
                                if suffix.len() == 6
                                    && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) =>
                            {
                                name
                            }
                            _ => full,
                        }
                    }
                };
                (short.to_string(), name.to_string())
            }
            None => {
                let region = if spec.arn_region {
                    region.unwrap_or("us-east-1")
                } else {
                    ""
                };
                let owner = if spec.arn_account { account } else { "" };
                let arn = format!(
                    "arn:{partition}:{}:{region}:{owner}:{}{name}",
                    spec.arn_service, spec.arn_prefix
                );
                (name.to_string(), arn)
            }
        };
        if name.is_empty() || name.len() > 2048 || name.chars().any(|c| c.is_control() || c == '*')
        {
            return Err(ResourceError::Name { kind, name });
        }
        Ok(Resource {
            kind,
            spec: format!("{kind}/{name}"),
            name,
            arn,
            account: account.to_string(),
            region: region.map(str::to_string),
        })
    }

    /// Every bucket of an account, as one resource (`bucket/*`, ARN `arn:aws:s3:::*`):
    /// what the account's own settings, such as its Block Public Access, apply to.
    pub fn every_bucket(account: &str, region: Option<&str>) -> Result<Resource, ResourceError> {
        if !is_account_id(account) {
            return Err(ResourceError::Account(account.to_string()));
        }
        let partition = partition_of_region(region.unwrap_or("us-east-1"));
        Ok(Resource {
            kind: ResourceKind::Bucket,
            spec: "bucket/*".into(),
            name: "*".into(),
            arn: format!("arn:{partition}:s3:::*"),
            account: account.to_string(),
            region: region.map(str::to_string),
        })
    }

    /// Whether this is [`Resource::every_bucket`].
    pub fn is_every_bucket(&self) -> bool {
        self.kind == ResourceKind::Bucket && self.name == "*"
    }

    /// Parse `KIND/NAME` as the CLI and the allowlist write it.
    pub fn from_spec(
        spec: &str,
        account: &str,
        region: Option<&str>,
    ) -> Result<Resource, ResourceError> {
        let (kind, name) = spec
            .split_once('/')
            .ok_or_else(|| ResourceError::Spec(spec.to_string()))?;
        let kind =
            ResourceKind::parse(kind).ok_or_else(|| ResourceError::Spec(spec.to_string()))?;
        Resource::new(kind, name, account, region)
    }

    /// `bucket/NAME`, `role/NAME`, `key/ID`: what allowlist resource globs match against.
    pub fn spec(&self) -> &str {
        &self.spec
    }

    /// The partition of its ARN (`aws` when it cannot be told).
    pub fn partition(&self) -> &str {
        parse_arn(&self.arn).map(|a| a.partition).unwrap_or("aws")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_arns() {
        let b = Resource::from_spec("bucket/data", "222222222222", Some("eu-west-1")).unwrap();
        assert_eq!(b.arn, "arn:aws:s3:::data");
        let r = Resource::from_spec("role/Deploy", "222222222222", None).unwrap();
        assert_eq!(r.arn, "arn:aws:iam::222222222222:role/Deploy");
        let k = Resource::from_spec("key/abcd", "222222222222", Some("cn-north-1")).unwrap();
        assert_eq!(k.arn, "arn:aws-cn:kms:cn-north-1:222222222222:key/abcd");
        let k = Resource::new(
            ResourceKind::Key,
            "arn:aws:kms:us-west-2:222222222222:key/abcd",
            "222222222222",
            None,
        )
        .unwrap();
        assert_eq!(k.name, "abcd");
        let r = Resource::new(
            ResourceKind::Role,
            "arn:aws:iam::222222222222:role/a/b/R",
            "222222222222",
            None,
        )
        .unwrap();
        assert_eq!((r.name.as_str(), r.spec()), ("R", "role/R"));
    }

    #[test]
    fn refuses_bad_input() {
        assert!(Resource::from_spec("bucket/x", "000000000", None).is_err());
        assert!(Resource::from_spec("table/x", "222222222222", None).is_err());
        assert!(Resource::from_spec("bucketx", "222222222222", None).is_err());
        assert!(Resource::from_spec("bucket/", "222222222222", None).is_err());
    }
}
