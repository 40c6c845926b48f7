//! The guarded resources: S3 buckets, IAM roles, KMS keys.

use crate::principal::{is_account_id, parse_arn, partition_of_region};
use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    Bucket,
    Role,
    Key,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 3] =
        [ResourceKind::Bucket, ResourceKind::Role, ResourceKind::Key];

    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::Bucket => "bucket",
            ResourceKind::Role => "role",
            ResourceKind::Key => "key",
        }
    }

    pub fn parse(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The size limit AWS sets for this kind's policy, and what to call it in errors.
    /// Role trust policies: 2,048 characters by default, 4,096 at most on request.
    pub fn policy_limit(self) -> (usize, &'static str) {
        match self {
            ResourceKind::Bucket => (20 * 1024, "bucket policy"),
            ResourceKind::Role => (4096, "role trust policy"),
            ResourceKind::Key => (32 * 1024, "key policy"),
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Resource {
    pub kind: ResourceKind,
    /// Bucket name, role name (without path) or key id.
    pub name: String,
    pub arn: String,
    /// The account that owns the resource (12 digits).
    pub account: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `KIND/NAME`, made once: allowlist globs match it for every grant.
    #[serde(skip)]
    spec: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    #[error("{0:?} is not a 12-digit AWS account id")]
    Account(String),
    #[error("resource {0:?} must be KIND/NAME with KIND one of bucket, role, key")]
    Spec(String),
    #[error("{kind} name {name:?} is not valid")]
    Name { kind: ResourceKind, name: String },
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
        let partition = partition_of_region(region.unwrap_or("us-east-1"));
        let (name, arn) = match parse_arn(name) {
            Some(arn) => {
                let short = match kind {
                    ResourceKind::Bucket => arn.resource,
                    // role/path/to/Name → Name; key/ID → ID
                    ResourceKind::Role | ResourceKind::Key => {
                        arn.resource.rsplit('/').next().unwrap_or("")
                    }
                };
                (short.to_string(), name.to_string())
            }
            None => {
                let arn = match kind {
                    ResourceKind::Bucket => format!("arn:{partition}:s3:::{name}"),
                    ResourceKind::Role => format!("arn:{partition}:iam::{account}:role/{name}"),
                    ResourceKind::Key => {
                        format!(
                            "arn:{partition}:kms:{}:{account}:key/{name}",
                            region.unwrap_or("us-east-1")
                        )
                    }
                };
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
        assert!(Resource::from_spec("queue/x", "222222222222", None).is_err());
        assert!(Resource::from_spec("bucketx", "222222222222", None).is_err());
        assert!(Resource::from_spec("bucket/", "222222222222", None).is_err());
    }
}
