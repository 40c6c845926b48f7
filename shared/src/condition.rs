//! Which conditions narrow who a statement lets in (SPEC §1), and to whom.
//!
//! A condition narrows only when its operator is an equality or ARN match that must
//! hold (`StringEquals`, `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals`, `ArnLike`,
//! and their `ForAnyValue:` forms) and its key names the caller's account or
//! organisation. `…IfExists`, negated and `ForAllValues:` operators pass when the key
//! is absent, so they are recorded and never trusted. Several keys AND together;
//! several values of one key are alternatives.

use crate::json::excerpt;
use crate::policy::Condition;
use crate::principal::{is_account_id, is_unique_id, parse_arn};
use crate::who::Who;
use crate::wildcard::has_wildcard;

/// What a narrowing condition key limits: the caller's account or organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// `aws:PrincipalAccount`, `aws:SourceAccount`, ARN and user-id keys.
    Account,
    /// `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:SourceOrgID`.
    Org,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyClass {
    AccountId,
    Arn,
    OrgId,
    OrgPath,
    UserId,
}

/// The keys that narrow who gets in, lower case, and what they limit.
const KEY_CLASSES: [(&str, KeyClass); 12] = [
    ("aws:principalaccount", KeyClass::AccountId),
    ("aws:sourceaccount", KeyClass::AccountId),
    ("aws:sourceowner", KeyClass::AccountId),
    ("kms:calleraccount", KeyClass::AccountId),
    ("s3:dataaccesspointaccount", KeyClass::AccountId),
    ("aws:principalarn", KeyClass::Arn),
    ("aws:sourcearn", KeyClass::Arn),
    ("aws:principalorgid", KeyClass::OrgId),
    ("aws:sourceorgid", KeyClass::OrgId),
    ("aws:principalorgpaths", KeyClass::OrgPath),
    ("aws:sourceorgpaths", KeyClass::OrgPath),
    ("aws:userid", KeyClass::UserId),
];

fn key_class(key: &str) -> Option<KeyClass> {
    // Condition keys are case-insensitive; compared in place (a lower-cased copy per
    // condition was a tenth of a small policy's findings).
    KEY_CLASSES
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|&(_, c)| c)
}

/// Is this key one of the keys that can narrow who gets in?
pub fn is_narrowing_key(key: &str) -> bool {
    key_class(key).is_some()
}

/// How an operator treats a value: `Exact` equality, `Like` with wildcards, or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    /// Equality: a wildcard in the value is literal.
    Exact,
    /// Wildcard match.
    Like,
    /// Does not limit the caller; the text says why.
    NotNarrowing(&'static str),
}

/// How an operator (with its `ForAnyValue:`/`IfExists` parts) treats values.
pub fn operator_kind(op: &str) -> OpKind {
    let base = if let Some(rest) = op.strip_prefix("ForAnyValue:") {
        rest
    } else if op.starts_with("ForAllValues:") {
        return OpKind::NotNarrowing("ForAllValues passes when the key is absent");
    } else {
        op
    };
    if base.ends_with("IfExists") {
        return OpKind::NotNarrowing("…IfExists passes when the key is absent");
    }
    match base {
        "StringEquals" | "StringEqualsIgnoreCase" => OpKind::Exact,
        // IAM matches each ARN component with wildcards under ArnEquals too.
        "StringLike" | "ArnLike" | "ArnEquals" => OpKind::Like,
        b if b.contains("Not") => {
            OpKind::NotNarrowing("a negated operator does not say who gets in")
        }
        _ => OpKind::NotNarrowing("this operator does not limit the caller's account"),
    }
}

/// An AWS Organizations id: `o-` and 10 to 32 lowercase letters or digits.
pub fn is_org_id(s: &str) -> bool {
    s.strip_prefix("o-").is_some_and(|r| {
        (10..=32).contains(&r.len())
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    })
}

/// Does a policy variable (`${…}`) start before an ARN's account field has ended (its
/// fifth colon)?
fn variable_before_account(v: &str) -> bool {
    v.find("${")
        .is_some_and(|at| v[..at].bytes().filter(|&b| b == b':').count() < 5)
}

/// The target of one value, `None` when the value does not narrow (wildcards where the
/// account or organisation would be, or an ARN without an account such as a bucket's).
fn resolve_value(class: KeyClass, v: &str) -> Option<Who> {
    match class {
        KeyClass::AccountId => {
            if has_wildcard(v) {
                None
            } else if is_account_id(v) {
                Some(Who::Account(v.to_string()))
            } else {
                Some(Who::Unresolvable(format!(
                    "{} is not an account id",
                    excerpt(v)
                )))
            }
        }
        // A policy variable before the account's field is filled in by the caller, and
        // its colons would shift the fields: the value names no fixed account.
        KeyClass::Arn if variable_before_account(v) => None,
        KeyClass::Arn => match parse_arn(v) {
            Some(arn) if arn.account.is_empty() || has_wildcard(arn.account) => None,
            Some(arn) if is_account_id(arn.account) => Some(Who::Account(arn.account.to_string())),
            Some(_) => Some(Who::Unresolvable(format!(
                "{} does not name a valid account",
                excerpt(v)
            ))),
            None if has_wildcard(v) => None,
            None => Some(Who::Unresolvable(format!("{} is not an ARN", excerpt(v)))),
        },
        KeyClass::OrgId => {
            if has_wildcard(v) {
                None
            } else if is_org_id(v) {
                Some(Who::Org(v.to_string()))
            } else {
                Some(Who::Unresolvable(format!(
                    "{} is not an organization id",
                    excerpt(v)
                )))
            }
        }
        KeyClass::OrgPath => {
            let org = v.split('/').next().unwrap_or("");
            resolve_value(KeyClass::OrgId, org)
        }
        KeyClass::UserId => {
            let head = v.split(':').next().unwrap_or("");
            if has_wildcard(head) {
                None
            } else if is_account_id(head) {
                Some(Who::Account(head.to_string()))
            } else if is_unique_id(head) {
                Some(Who::Unresolvable(format!(
                    "aws:userid {} names an identity whose account is unknown",
                    excerpt(v)
                )))
            } else {
                Some(Who::Unresolvable(format!(
                    "{} is not a user id",
                    excerpt(v)
                )))
            }
        }
    }
}

/// `StringLike` matches an ARN as one string: a `*` before the account field can match
/// `:` too, so `arn:*:iam::111111111111:role/x` also matches
/// `arn:aws:iam::999999999999:role/p:iam::111111111111:role/x` (a role path may hold
/// `:`). Only `ArnLike`/`ArnEquals` match part by part; under `StringLike` an ARN value
/// narrows only when everything up to its account field is literal.
fn string_like_spans_arn_parts(operator: &str, class: KeyClass, v: &str) -> bool {
    let base = operator.strip_prefix("ForAnyValue:").unwrap_or(operator);
    if class != KeyClass::Arn || base != "StringLike" {
        return false;
    }
    let head_end = v.match_indices(':').nth(4).map_or(v.len(), |(i, _)| i);
    has_wildcard(&v[..head_end])
}

/// One narrowing condition key, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Narrowing {
    /// What the key limits.
    pub dimension: Dimension,
    /// Who its values name, any one of which gets in.
    pub targets: Vec<Who>,
}

/// A condition on a narrowing key that must not be trusted to limit who gets in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Untrusted {
    /// The operator lets callers through that the values do not name.
    #[error("{operator} on {key}: {why}")]
    Operator {
        /// The condition operator.
        operator: String,
        /// The condition key.
        key: String,
        /// Why it is not trusted.
        why: &'static str,
    },
    /// A value with a wildcard where it can match any account.
    #[error("{operator} on {key}: {value} is a wildcard")]
    Wildcard {
        /// The condition operator.
        operator: String,
        /// The condition key.
        key: String,
        /// Cut to a readable length.
        value: String,
    },
}

/// Resolve one condition: `Ok(Some)` if it narrows, `Ok(None)` for keys that have
/// nothing to do with who gets in, `Err` when it looks like a restriction on the caller
/// but must not be trusted as one.
pub fn narrowing(c: &Condition) -> Result<Option<Narrowing>, Untrusted> {
    let Some(class) = key_class(&c.key) else {
        return Ok(None);
    };
    match operator_kind(&c.operator) {
        OpKind::NotNarrowing(why) => Err(Untrusted::Operator {
            operator: c.operator.clone(),
            key: c.key.clone(),
            why,
        }),
        kind => {
            let mut targets = Vec::with_capacity(c.values.len());
            for v in &c.values {
                // `StringEquals` compares literally: a `*` in the value is a literal star
                // that no account id contains, so it narrows to nothing that exists.
                let resolved = if string_like_spans_arn_parts(&c.operator, class, v) {
                    None
                } else if kind == OpKind::Exact && has_wildcard(v) {
                    Some(Who::Unresolvable(format!(
                        "{} is compared literally",
                        excerpt(v)
                    )))
                } else {
                    resolve_value(class, v)
                };
                match resolved {
                    Some(t) => targets.push(t),
                    None => {
                        return Err(Untrusted::Wildcard {
                            operator: c.operator.clone(),
                            key: c.key.clone(),
                            value: excerpt(v),
                        })
                    }
                }
            }
            let dimension = match class {
                KeyClass::OrgId | KeyClass::OrgPath => Dimension::Org,
                _ => Dimension::Account,
            };
            Ok(Some(Narrowing { dimension, targets }))
        }
    }
}

/// The value of a narrowing key resolves to `target`: used to remove it when remediating.
pub fn value_targets(key: &str, value: &str, target: &Who) -> bool {
    key_class(key)
        .and_then(|c| resolve_value(c, value))
        .as_ref()
        == Some(target)
}

/// AND several narrowings of one dimension. `Unknown` targets (account not tellable)
/// are kept and also let every account through the other sets: conservative, so that a
/// grant is never hidden because crossguard could not resolve a value.
pub fn intersect(sets: &[&[Who]]) -> Vec<Who> {
    let wild: Vec<bool> = sets
        .iter()
        .map(|s| s.iter().any(|t| matches!(t, Who::Unresolvable(_))))
        .collect();
    let mut out: Vec<Who> = Vec::new();
    for set in sets {
        for t in *set {
            if out.contains(t) {
                continue;
            }
            let keep = match t {
                Who::Unresolvable(_) => true,
                _ => sets.iter().zip(&wild).all(|(s, w)| *w || s.contains(t)),
            };
            if keep {
                out.push(t.clone());
            }
        }
    }
    out
}

/// Does the statement require a caller-supplied `sts:ExternalId`?
pub fn requires_external_id(conds: &[Condition]) -> bool {
    conds.iter().any(|c| {
        c.key.eq_ignore_ascii_case("sts:ExternalId")
            && match operator_kind(&c.operator) {
                OpKind::Exact => !c.values.is_empty(),
                OpKind::Like => {
                    !c.values.is_empty()
                        && c.values
                            .iter()
                            .all(|v| v.chars().any(|ch| ch != '*' && ch != '?'))
                }
                OpKind::NotNarrowing(_) => false,
            }
    })
}

/// Owner segments a subject pattern must hold whole, delimiter included (SPEC §1):
/// GitHub `repo:ORG/`, GitLab `project_path:GROUP/`, Terraform Cloud `organization:ORG:`.
const OWNER_SEGMENTS: [(&str, char); 3] = [
    ("repo:", '/'),
    ("project_path:", '/'),
    ("organization:", ':'),
];

/// Does a `StringLike` value of an OIDC subject condition pin down whose subject it is?
/// A value without wildcards does. With wildcards, only when its literal prefix (before
/// the first `*` or `?`) holds a whole owner segment: `repo:my-org/*` pins, `repo:my-org*`
/// does not (`repo:my-org-evil/x` matches it), nor do `repo:*`, `rep*` or `repo:my-?rg/*`.
fn subject_value_narrows(v: &str) -> bool {
    let literal = v.split(['*', '?']).next().unwrap_or("");
    if literal.len() == v.len() {
        return !v.is_empty();
    }
    OWNER_SEGMENTS.iter().any(|(prefix, delimiter)| {
        literal
            .strip_prefix(prefix)
            .and_then(|rest| rest.find(*delimiter))
            .is_some_and(|at| at > 0)
    })
}

/// Is the web-identity provider's subject narrowed by a condition? Cognito identity
/// pools are narrowed by `:aud`, which must be a literal pool id; every other OIDC
/// provider by `:sub`, every value of which must pin the owner.
pub fn oidc_subject_narrowed(conds: &[Condition], provider: &str) -> bool {
    let cognito = provider.eq_ignore_ascii_case("cognito-identity.amazonaws.com");
    let want = format!("{provider}:{}", if cognito { "aud" } else { "sub" });
    conds.iter().any(|c| {
        c.key.eq_ignore_ascii_case(&want)
            && !c.values.is_empty()
            // A policy variable (`${…}`) is replaced by the caller's own value, so
            // `${token.actions.githubusercontent.com:sub}` equals every subject.
            && !c.values.iter().any(|v| v.contains("${"))
            && match operator_kind(&c.operator) {
                OpKind::Exact => c.values.iter().all(|v| !v.is_empty()),
                OpKind::Like if cognito => {
                    c.values.iter().all(|v| !v.is_empty() && !has_wildcard(v))
                }
                OpKind::Like => c.values.iter().all(|v| subject_value_narrows(v)),
                OpKind::NotNarrowing(_) => false,
            }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(op: &str, key: &str, values: &[&str]) -> Condition {
        Condition {
            operator: op.into(),
            key: key.into(),
            values: values.iter().map(|s| (*s).to_string()).collect(),
        }
    }

    fn acct(a: &str) -> Who {
        Who::Account(a.into())
    }

    #[test]
    fn narrowing_operators() {
        for op in [
            "StringEquals",
            "StringEqualsIgnoreCase",
            "StringLike",
            "ForAnyValue:StringEquals",
            "ForAnyValue:StringLike",
        ] {
            let n = narrowing(&cond(op, "aws:PrincipalAccount", &["111111111111"]))
                .unwrap()
                .unwrap();
            assert_eq!(n.targets, vec![acct("111111111111")], "{op}");
        }
        for op in ["ArnEquals", "ArnLike", "StringLike"] {
            let n = narrowing(&cond(
                op,
                "aws:PrincipalArn",
                &["arn:aws:iam::111111111111:role/*"],
            ))
            .unwrap()
            .unwrap();
            assert_eq!(n.targets, vec![acct("111111111111")], "{op}");
        }
    }

    #[test]
    fn operators_that_do_not_narrow() {
        for op in [
            "StringEqualsIfExists",
            "StringNotEquals",
            "StringNotLike",
            "ArnNotEquals",
            "ForAllValues:StringEquals",
            "ArnLikeIfExists",
            "NumericEquals",
            "Bool",
        ] {
            assert!(
                narrowing(&cond(op, "aws:PrincipalAccount", &["111111111111"])).is_err(),
                "{op}"
            );
        }
    }

    #[test]
    fn every_narrowing_key() {
        for key in [
            "aws:PrincipalAccount",
            "aws:SourceAccount",
            "aws:SourceOwner",
            "kms:CallerAccount",
            "s3:DataAccessPointAccount",
            "AWS:SOURCEACCOUNT",
        ] {
            let n = narrowing(&cond(
                "StringEquals",
                key,
                &["111111111111", "222222222222"],
            ))
            .unwrap()
            .unwrap();
            assert_eq!(n.dimension, Dimension::Account, "{key}");
            assert_eq!(n.targets.len(), 2, "{key}");
        }
        for key in ["aws:PrincipalArn", "aws:SourceArn"] {
            let n = narrowing(&cond(
                "ArnEquals",
                key,
                &["arn:aws:sns:us-east-1:111111111111:t"],
            ))
            .unwrap()
            .unwrap();
            assert_eq!(n.targets, vec![acct("111111111111")], "{key}");
        }
        let n = narrowing(&cond(
            "StringEquals",
            "aws:PrincipalOrgID",
            &["o-a1b2c3d4e5"],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(
            (n.dimension, n.targets),
            (Dimension::Org, vec![Who::Org("o-a1b2c3d4e5".into())])
        );
        let n = narrowing(&cond("StringEquals", "aws:SourceOrgID", &["o-a1b2c3d4e5"]))
            .unwrap()
            .unwrap();
        assert_eq!(n.dimension, Dimension::Org);
        let n = narrowing(&cond(
            "ForAnyValue:StringLike",
            "aws:PrincipalOrgPaths",
            &["o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*"],
        ))
        .unwrap()
        .unwrap();
        assert_eq!(n.targets, vec![Who::Org("o-a1b2c3d4e5".into())]);
        let n = narrowing(&cond("StringLike", "aws:userid", &["111111111111:*"]))
            .unwrap()
            .unwrap();
        assert_eq!(n.targets, vec![acct("111111111111")]);
        let n = narrowing(&cond(
            "StringLike",
            "aws:userid",
            &["AROAEXAMPLEEXAMPLE12:*"],
        ))
        .unwrap()
        .unwrap();
        assert!(matches!(n.targets[0], Who::Unresolvable(_)));
        assert_eq!(
            narrowing(&cond("Bool", "aws:SecureTransport", &["true"])),
            Ok(None)
        );
        assert_eq!(
            narrowing(&cond("StringEquals", "sts:ExternalId", &["x"])),
            Ok(None)
        );
    }

    #[test]
    fn wildcards_do_not_narrow() {
        assert!(narrowing(&cond("StringLike", "aws:PrincipalAccount", &["*"])).is_err());
        assert!(narrowing(&cond(
            "StringLike",
            "aws:PrincipalAccount",
            &["111111111111", "2*"]
        ))
        .is_err());
        assert!(narrowing(&cond(
            "ArnLike",
            "aws:PrincipalArn",
            &["arn:aws:iam::*:role/x"]
        ))
        .is_err());
        assert!(narrowing(&cond("StringLike", "aws:PrincipalOrgID", &["o-*"])).is_err());
        assert!(narrowing(&cond(
            "ArnEquals",
            "aws:SourceArn",
            &["arn:aws:sns:*:*:topic"]
        ))
        .is_err());
        assert!(narrowing(&cond("ArnLike", "aws:SourceArn", &["arn:aws:s3:::bucket"])).is_err());
        // StringEquals compares a star literally: it narrows to something that does not exist.
        let n = narrowing(&cond("StringEquals", "aws:PrincipalAccount", &["*"]))
            .unwrap()
            .unwrap();
        assert!(matches!(n.targets[0], Who::Unresolvable(_)));
    }

    #[test]
    fn intersection_is_conservative() {
        let a = [acct("1"), acct("2")];
        let b = [acct("2"), acct("3")];
        assert_eq!(intersect(&[&a, &b]), vec![acct("2")]);
        let u = [Who::Unresolvable("x".into())];
        let got = intersect(&[&a, &u]);
        assert!(got.contains(&acct("1")) && got.contains(&acct("2")) && got.contains(&u[0]));
    }

    #[test]
    fn external_id_and_subjects() {
        assert!(requires_external_id(&[cond(
            "StringEquals",
            "sts:ExternalId",
            &["abc"]
        )]));
        assert!(!requires_external_id(&[cond(
            "StringEqualsIfExists",
            "sts:ExternalId",
            &["abc"]
        )]));
        assert!(!requires_external_id(&[cond(
            "StringLike",
            "sts:ExternalId",
            &["*"]
        )]));
        assert!(!requires_external_id(&[cond(
            "StringNotEquals",
            "sts:ExternalId",
            &["abc"]
        )]));
        let gh = "token.actions.githubusercontent.com";
        assert!(oidc_subject_narrowed(
            &[cond(
                "StringLike",
                &format!("{gh}:sub"),
                &["repo:my-org/app:*"]
            )],
            gh
        ));
        assert!(oidc_subject_narrowed(
            &[cond(
                "StringEquals",
                &format!("{gh}:sub"),
                &["repo:my-org/app:ref:refs/heads/main"]
            )],
            gh
        ));
        assert!(!oidc_subject_narrowed(
            &[cond("StringLike", &format!("{gh}:sub"), &["repo:*"])],
            gh
        ));
        assert!(!oidc_subject_narrowed(
            &[cond("StringLike", &format!("{gh}:sub"), &["*"])],
            gh
        ));
        assert!(!oidc_subject_narrowed(
            &[cond(
                "StringEquals",
                &format!("{gh}:aud"),
                &["sts.amazonaws.com"]
            )],
            gh
        ));
        // A wildcard inside the owner segment, or one unpinned value among several.
        for open in [
            vec!["rep*"],
            vec!["repo:e*"],
            vec!["repo:my-org*"],
            vec!["repo:my-?rg/*"],
            vec!["repo:/*"],
            vec!["repo:my-org/app:*", "repo:*"],
            vec!["project_path:my*"],
            vec!["organization:acme*"],
        ] {
            assert!(
                !oidc_subject_narrowed(&[cond("StringLike", &format!("{gh}:sub"), &open)], gh),
                "{open:?}"
            );
        }
        for pinned in [
            vec!["repo:my-org/*"],
            vec!["repo:my-org/app:*", "repo:my-org/lib:ref:refs/heads/main"],
            vec!["project_path:my-group/*"],
            vec!["organization:acme:project:*"],
        ] {
            assert!(
                oidc_subject_narrowed(&[cond("StringLike", &format!("{gh}:sub"), &pinned)], gh),
                "{pinned:?}"
            );
        }
        let cog = "cognito-identity.amazonaws.com";
        assert!(!oidc_subject_narrowed(
            &[cond("StringLike", &format!("{cog}:aud"), &["us-east-1:*"])],
            cog
        ));
        assert!(oidc_subject_narrowed(
            &[cond(
                "StringEquals",
                &format!("{cog}:aud"),
                &["us-east-1:pool"]
            )],
            cog
        ));
    }
}
