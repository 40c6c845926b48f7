//! Principals: who a policy names, resolved to the account (or everyone) it lets in.

pub use crate::who::Who;

use serde::Serialize;

/// The AWS partitions an ARN may name.
pub const PARTITIONS: [&str; 3] = ["aws", "aws-cn", "aws-us-gov"];

/// A 12-digit AWS account id.
pub fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// Prefixes of IAM unique ids (user, role, group, …). A policy shows one in place of an
/// ARN when the identity it named was deleted: the account can no longer be told.
const UNIQUE_ID_PREFIXES: [&str; 8] = [
    "AROA", "AIDA", "AGPA", "AIPA", "ANPA", "ANVA", "ASIA", "AKIA",
];

/// An IAM unique id (`AROA…`, `AIDA…`): it names an identity, not its account.
pub fn is_unique_id(s: &str) -> bool {
    s.len() >= 16
        && UNIQUE_ID_PREFIXES.iter().any(|p| s.starts_with(p))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

/// The parts of an ARN crossguard reads: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`.
    pub partition: &'a str,
    /// The service (`iam`, `s3`, …).
    pub service: &'a str,
    /// The region; empty for global services.
    pub region: &'a str,
    /// The account; empty where the ARN names none (S3).
    pub account: &'a str,
    /// Everything after the account.
    pub resource: &'a str,
}

/// The parts of an ARN, if it is one.
pub fn parse_arn(s: &str) -> Option<Arn<'_>> {
    // A byte scan for the first four colons: this runs for every principal and
    // condition value, and `splitn` costs several times more.
    let rest = s.strip_prefix("arn:")?;
    // Nearly every principal is an IAM or STS ARN of the `aws` partition: its first three
    // colons are where they always are, and only the account's end is looked for.
    for (global, service) in [("aws:iam::", "iam"), ("aws:sts::", "sts")] {
        if let Some(tail) = rest.strip_prefix(global) {
            let end = tail.bytes().position(|c| c == b':')?;
            return Some(Arn {
                partition: "aws",
                service,
                region: "",
                account: &tail[..end],
                resource: &tail[end + 1..],
            });
        }
    }
    scan_arn(rest)
}

/// An ARN's parts after `arn:`, found by a byte scan for the first four colons.
fn scan_arn(rest: &str) -> Option<Arn<'_>> {
    let mut at = [0usize; 4];
    let mut n = 0;
    for (i, &c) in rest.as_bytes().iter().enumerate() {
        if c == b':' {
            at[n] = i;
            n += 1;
            if n == 4 {
                break;
            }
        }
    }
    if n < 4 {
        return None;
    }
    Some(Arn {
        partition: &rest[..at[0]],
        service: &rest[at[0] + 1..at[1]],
        region: &rest[at[1] + 1..at[2]],
        account: &rest[at[2] + 1..at[3]],
        resource: &rest[at[3] + 1..],
    })
}

/// The partition an AWS region belongs to.
pub fn partition_of_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The type key of a principal entry: `{"AWS": …}`, `{"Service": …}`, …
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum PrincipalType {
    /// `"Principal": "*"`, written as a bare string.
    Star,
    /// `"AWS"`: accounts, users, roles.
    #[serde(rename = "AWS")]
    Aws,
    /// `"Service"`: an AWS service.
    Service,
    /// `"Federated"`: an OIDC or SAML identity provider.
    Federated,
    /// `"CanonicalUser"`: an S3 canonical user id.
    CanonicalUser,
    /// Any other key: IAM would reject it, crossguard reports it and cannot approve it.
    Other,
}

impl PrincipalType {
    /// The type a `Principal` key names.
    pub fn from_key(key: &str) -> PrincipalType {
        match key {
            "AWS" => PrincipalType::Aws,
            "Service" => PrincipalType::Service,
            "Federated" => PrincipalType::Federated,
            "CanonicalUser" => PrincipalType::CanonicalUser,
            _ => PrincipalType::Other,
        }
    }
}

/// Resolve one principal value of the given type.
pub fn resolve(kind: PrincipalType, value: &str) -> Who {
    match kind {
        PrincipalType::Star => Who::Public,
        PrincipalType::Aws => resolve_aws(value),
        PrincipalType::Service => {
            if value == "*" {
                Who::Public
            } else if value.contains(['*', '?']) {
                // Which services (or whose) a pattern names cannot be told.
                Who::Unresolvable(format!("service principal {value} is a pattern"))
            } else {
                Who::Service(value.to_string())
            }
        }
        PrincipalType::Federated => resolve_federated(value),
        PrincipalType::CanonicalUser => Who::Unresolvable(
            "a canonical user id cannot be mapped to an account without asking S3".into(),
        ),
        PrincipalType::Other => Who::Unresolvable("unknown principal type".into()),
    }
}

fn resolve_aws(value: &str) -> Who {
    if value == "*" {
        return Who::Public;
    }
    if is_account_id(value) {
        return Who::Account(value.to_string());
    }
    if is_unique_id(value) {
        return Who::Unresolvable(format!(
            "{value} is a unique id: the identity it named was deleted, its account is unknown"
        ));
    }
    match parse_arn(value) {
        Some(arn)
            if PARTITIONS.contains(&arn.partition)
                && (arn.service == "iam" || arn.service == "sts")
                && arn.region.is_empty() =>
        {
            if is_account_id(arn.account) && arn_resource_ok(arn.service, arn.resource) {
                Who::Account(arn.account.to_string())
            } else if arn.account == "cloudfront" {
                Who::Unresolvable(
                    "a CloudFront origin access identity is not an account principal".into(),
                )
            } else if arn.account.contains(['*', '?']) || arn.resource.contains(['*', '?']) {
                // IAM refuses wildcards in principal ARNs; S3 and KMS have accepted some.
                Who::Unresolvable(format!("wildcard in principal ARN {value}"))
            } else {
                Who::Unresolvable(format!("{value} is not a valid IAM principal ARN"))
            }
        }
        _ => Who::Unresolvable(format!("{value} is not an account id or IAM principal ARN")),
    }
}

fn arn_resource_ok(service: &str, resource: &str) -> bool {
    match service {
        "iam" => {
            resource == "root"
                || resource.starts_with("user/")
                || resource.starts_with("role/")
                || resource.starts_with("federated-user/")
                || resource.starts_with("group/")
        }
        "sts" => resource.starts_with("assumed-role/") || resource.starts_with("federated-user/"),
        _ => false,
    }
}

fn resolve_federated(value: &str) -> Who {
    if value == "*" {
        return Who::Public;
    }
    if let Some(arn) = parse_arn(value) {
        if arn.service == "iam" && is_account_id(arn.account) {
            if let Some(host) = arn.resource.strip_prefix("oidc-provider/") {
                return Who::Federated {
                    provider: host.to_string(),
                    account: Some(arn.account.to_string()),
                    saml: false,
                };
            }
            if arn.resource.starts_with("saml-provider/") {
                return Who::Federated {
                    provider: arn.resource.to_string(),
                    account: Some(arn.account.to_string()),
                    saml: true,
                };
            }
        }
        return Who::Unresolvable(format!("{value} is not an IAM identity provider ARN"));
    }
    // Global web-identity providers named by host: cognito-identity.amazonaws.com,
    // accounts.google.com, graph.facebook.com, www.amazon.com.
    Who::Federated {
        provider: value.to_string(),
        account: None,
        saml: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aws(v: &str) -> Who {
        resolve(PrincipalType::Aws, v)
    }

    #[test]
    fn aws_forms() {
        assert_eq!(aws("*"), Who::Public);
        assert_eq!(aws("111111111111"), Who::Account("111111111111".into()));
        for arn in [
            "arn:aws:iam::111111111111:root",
            "arn:aws:iam::111111111111:user/alice",
            "arn:aws:iam::111111111111:role/path/to/R",
            "arn:aws:sts::111111111111:assumed-role/R/session",
            "arn:aws-cn:iam::111111111111:root",
            "arn:aws-us-gov:iam::111111111111:role/R",
        ] {
            assert_eq!(aws(arn), Who::Account("111111111111".into()), "{arn}");
        }
        assert!(matches!(
            aws("AROAEXAMPLEEXAMPLE1234"),
            Who::Unresolvable(_)
        ));
        assert!(matches!(aws("AIDAJQABLZS4A3QDU576Q"), Who::Unresolvable(_)));
        assert!(matches!(aws("11111111111"), Who::Unresolvable(_)));
        assert!(matches!(aws("arn:aws:iam::*:root"), Who::Unresolvable(_)));
        assert!(matches!(
            aws("arn:foo:iam::111111111111:root"),
            Who::Unresolvable(_)
        ));
        assert!(matches!(aws("arn:aws:s3:::bucket"), Who::Unresolvable(_)));
        assert!(matches!(
            aws("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"),
            Who::Unresolvable(_)
        ));
    }

    #[test]
    fn other_forms() {
        assert_eq!(resolve(PrincipalType::Star, "*"), Who::Public);
        assert_eq!(
            resolve(PrincipalType::Service, "cloudtrail.amazonaws.com"),
            Who::Service("cloudtrail.amazonaws.com".into())
        );
        assert_eq!(
            resolve(
                PrincipalType::Federated,
                "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com"
            ),
            Who::Federated {
                provider: "token.actions.githubusercontent.com".into(),
                account: Some("222222222222".into()),
                saml: false
            }
        );
        assert!(matches!(
            resolve(
                PrincipalType::Federated,
                "arn:aws:iam::222222222222:saml-provider/Okta"
            ),
            Who::Federated { saml: true, .. }
        ));
        assert!(matches!(
            resolve(
                PrincipalType::CanonicalUser,
                "79a59df900b949e55d96a1e698fbaced"
            ),
            Who::Unresolvable(_)
        ));
    }

    #[test]
    fn arns() {
        let a = parse_arn("arn:aws:kms:us-east-1:111111111111:key/abc").unwrap();
        assert_eq!(a.account, "111111111111");
        assert_eq!(a.resource, "key/abc");
        assert!(parse_arn("nope").is_none());
        // The IAM and STS shortcut reads what the scan reads.
        for t in [
            "arn:aws:iam::111111111111:role/R",
            "arn:aws:sts::111111111111:assumed-role/R/s",
            "arn:aws:iam::",
            "arn:aws:iam::123",
            "arn:aws:iam:::",
            "arn:aws:iam::1:x:y",
            "arn:aws:iam::é:r",
            "arn:aws:iam:::root",
            "arn:aws:iamx::1:r",
            "arn:aws-cn:iam::1:r",
            "arn:aws:sts:us-east-1:1:r",
        ] {
            let rest = t.strip_prefix("arn:").unwrap();
            assert_eq!(parse_arn(t), scan_arn(rest), "{t}");
        }
        assert!(parse_arn("arn:aws:iam::1").is_none());
        let a = parse_arn("arn:aws:iam::1:role/a:b").unwrap();
        assert_eq!(
            (a.partition, a.service, a.region, a.account, a.resource),
            ("aws", "iam", "", "1", "role/a:b")
        );
        assert_eq!(partition_of_region("cn-north-1"), "aws-cn");
        assert_eq!(partition_of_region("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition_of_region("eu-west-1"), "aws");
    }
}
