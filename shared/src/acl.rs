//! S3 bucket ACLs: a side door beside the bucket policy. An ACL grant to the `AllUsers`
//! or `AuthenticatedUsers` group is public; one to another canonical user lets that
//! user's account in. Each grant is decided as the statement a bucket policy would need
//! to grant the same (AWS's mapping of ACL permissions to policy actions), so pairings,
//! `[[public]]` entries and their `actions` approve ACL grants exactly as they approve
//! policy grants; the fix puts the ACL back without the unapproved grants.
//!
//! Canonical user ids are not account ids. The bucket owner's own id is the ACL's
//! `Owner`; an outside party's is named on its pairing (`canonical_ids`); any other id
//! cannot be resolved, so it is never approved.
//!
//! Read from three shapes, each strictly: the CloudTrail record of `PutBucketAcl`
//! (`AccessControlPolicy`, XML turned into JSON: one `Grant` is an object, several an
//! array), its canned (`x-amz-acl`) and grant (`x-amz-grant-*`) headers, and the JSON
//! form the guard reads live and writes back (`GetBucketAcl`'s: `Owner`, `Grants`).

use crate::allowlist::Allowlist;
use crate::policy::PolicyDocument;
use crate::resource::Resource;
use serde_json::{json, Map, Value};

/// The group of every AWS account and anonymous caller.
pub const ALL_USERS: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
/// The group of every AWS account (any signed caller): public too.
pub const AUTHENTICATED_USERS: &str = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
/// S3's server access log delivery: the service's, writing for the owner.
pub const LOG_DELIVERY: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// AWS allows at most 100 grants in one ACL.
pub const MAX_GRANTS: usize = 100;

/// Who an ACL grant names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantee {
    /// A canonical user id.
    User(String),
    /// The bucket owner, named by a canned ACL (whose record carries no id).
    Owner,
    /// A predefined group, by URI.
    Group(String),
    /// An AWS account by its root user's e-mail address (`AmazonCustomerByEmail`).
    Email(String),
}

/// One ACL grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclGrant {
    /// Who.
    pub grantee: Grantee,
    /// `READ`, `WRITE`, `READ_ACP`, `WRITE_ACP` or `FULL_CONTROL`.
    pub permission: String,
}

/// A bucket ACL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// The owner's canonical id, when the record or the read names it.
    pub owner: Option<String>,
    /// The owner's display name, kept as read so a written-back ACL says the same.
    pub owner_name: Option<String>,
    /// The grants, in order.
    pub grants: Vec<AclGrant>,
}

/// The bucket policy actions an ACL permission on a bucket stands for (the S3 User
/// Guide's "Mapping of ACL permissions and access policy permissions").
pub fn actions(permission: &str) -> Option<&'static [&'static str]> {
    Some(match permission {
        "READ" => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
        ],
        "WRITE" => &["s3:PutObject", "s3:DeleteObject"],
        "READ_ACP" => &["s3:GetBucketAcl"],
        "WRITE_ACP" => &["s3:PutBucketAcl"],
        "FULL_CONTROL" => &[
            "s3:ListBucket",
            "s3:ListBucketVersions",
            "s3:ListBucketMultipartUploads",
            "s3:PutObject",
            "s3:DeleteObject",
            "s3:GetBucketAcl",
            "s3:PutBucketAcl",
        ],
        _ => return None,
    })
}

/// Which header grants which permission (`x-amz-grant-read: id="…"`).
const GRANT_HEADERS: [(&str, &str); 5] = [
    ("x-amz-grant-read", "READ"),
    ("x-amz-grant-write", "WRITE"),
    ("x-amz-grant-read-acp", "READ_ACP"),
    ("x-amz-grant-write-acp", "WRITE_ACP"),
    ("x-amz-grant-full-control", "FULL_CONTROL"),
];

impl Grantee {
    /// As a person reads it.
    pub fn describe(&self) -> String {
        match self {
            Grantee::User(id) => format!("CanonicalUser:{id}"),
            Grantee::Owner => "the bucket owner".into(),
            Grantee::Group(uri) => format!("Group:{}", uri.rsplit('/').next().unwrap_or(uri)),
            Grantee::Email(a) => format!("AmazonCustomerByEmail:{a}"),
        }
    }

    fn to_json(&self, owner: Option<&str>) -> Option<Value> {
        Some(match self {
            Grantee::User(id) => json!({"Type": "CanonicalUser", "ID": id}),
            Grantee::Owner => json!({"Type": "CanonicalUser", "ID": owner?}),
            Grantee::Group(uri) => json!({"Type": "Group", "URI": uri}),
            Grantee::Email(a) => json!({"Type": "AmazonCustomerByEmail", "EmailAddress": a}),
        })
    }
}

fn text(v: &Value, what: &str) -> Result<String, String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        _ => Err(format!("the ACL's {what} is not a non-empty string")),
    }
}

/// A header's value: a string, or CloudTrail's list of one.
fn header(v: &Value, name: &str) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Array(items) if items.len() == 1 => text(&items[0], name),
        _ => Err(format!("the header {name} is not one string")),
    }
}

fn permission(v: &Value) -> Result<String, String> {
    let p = text(v, "Permission")?;
    match actions(&p) {
        Some(_) => Ok(p),
        None => Err(format!("the ACL grants an unknown permission {p:?}")),
    }
}

fn group(uri: &str) -> Result<Grantee, String> {
    match uri {
        ALL_USERS | AUTHENTICATED_USERS | LOG_DELIVERY => Ok(Grantee::Group(uri.to_string())),
        other => Err(format!("the ACL names an unknown group {other:?}")),
    }
}

/// Keys a grantee object may carry besides the one that names it.
const GRANTEE_NOISE: [&str; 3] = ["xmlns:xsi", "DisplayName", "xsi:type"];

/// A grantee in either JSON form: the record's (`xsi:type`, `ID`/`URI`/`EmailAddress`)
/// or the API's (`Type`, the same).
fn grantee(v: &Value) -> Result<Grantee, String> {
    let Value::Object(m) = v else {
        return Err("an ACL grantee is not an object".into());
    };
    let ty = match (m.get("xsi:type"), m.get("Type")) {
        (Some(t), None) | (None, Some(t)) => text(t, "grantee type")?,
        _ => return Err("an ACL grantee does not say its type exactly once".into()),
    };
    let field = match ty.as_str() {
        "CanonicalUser" => "ID",
        "Group" => "URI",
        "AmazonCustomerByEmail" => "EmailAddress",
        other => return Err(format!("an ACL grantee has an unknown type {other:?}")),
    };
    if let Some(k) = m
        .keys()
        .find(|k| *k != field && *k != "Type" && !GRANTEE_NOISE.contains(&k.as_str()))
    {
        return Err(format!("an ACL grantee of type {ty} also carries {k:?}"));
    }
    let value = text(
        m.get(field).unwrap_or(&Value::Null),
        &format!("grantee {field}"),
    )?;
    match field {
        "ID" => Ok(Grantee::User(value)),
        "URI" => group(&value),
        _ => Ok(Grantee::Email(value)),
    }
}

/// `Grant`: one object, or an array of them (XML turned into JSON).
fn grants_of(v: Option<&Value>, grant_key: &str) -> Result<Vec<AclGrant>, String> {
    let items: Vec<&Value> = match v {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(a)) => a.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        Some(_) => {
            return Err(format!(
                "the ACL's {grant_key} is neither a grant nor a list"
            ))
        }
    };
    items
        .into_iter()
        .map(|g| {
            let Value::Object(m) = g else {
                return Err("an ACL grant is not an object".to_string());
            };
            if let Some(k) = m.keys().find(|k| *k != "Grantee" && *k != "Permission") {
                return Err(format!("an ACL grant carries an unknown field {k:?}"));
            }
            Ok(AclGrant {
                grantee: grantee(m.get("Grantee").unwrap_or(&Value::Null))?,
                permission: permission(m.get("Permission").unwrap_or(&Value::Null))?,
            })
        })
        .collect()
}

fn owner_of(v: Option<&Value>) -> Result<(Option<String>, Option<String>), String> {
    match v {
        None | Some(Value::Null) => Ok((None, None)),
        Some(Value::Object(m)) => {
            let id = text(m.get("ID").unwrap_or(&Value::Null), "Owner ID")?;
            let name = m
                .get("DisplayName")
                .and_then(Value::as_str)
                .map(String::from);
            Ok((Some(id), name))
        }
        Some(_) => Err("the ACL's Owner is not an object".into()),
    }
}

/// A canned ACL (`x-amz-acl`) as the grants it stands for.
fn canned(name: &str) -> Result<Vec<AclGrant>, String> {
    let g = |grantee: Grantee, p: &str| AclGrant {
        grantee,
        permission: p.to_string(),
    };
    let mut grants = vec![g(Grantee::Owner, "FULL_CONTROL")];
    match name {
        // The two object ACLs mean "owner only" on a bucket.
        "private" | "bucket-owner-read" | "bucket-owner-full-control" => {}
        "public-read" => grants.push(g(Grantee::Group(ALL_USERS.into()), "READ")),
        "public-read-write" => {
            grants.push(g(Grantee::Group(ALL_USERS.into()), "READ"));
            grants.push(g(Grantee::Group(ALL_USERS.into()), "WRITE"));
        }
        "authenticated-read" => grants.push(g(Grantee::Group(AUTHENTICATED_USERS.into()), "READ")),
        "log-delivery-write" => {
            grants.push(g(Grantee::Group(LOG_DELIVERY.into()), "WRITE"));
            grants.push(g(Grantee::Group(LOG_DELIVERY.into()), "READ_ACP"));
        }
        other => {
            return Err(format!(
            "the canned ACL {other:?} is not one crossguard can read (its grantees are not named)"
        ))
        }
    }
    Ok(grants)
}

/// One grant header's grantees: `id="…", uri="…", emailAddress="…"`.
fn header_grants(value: &str, permission: &str) -> Result<Vec<AclGrant>, String> {
    // An empty header names no grantee; a part left empty between commas is no shape S3
    // documents: not guessed at.
    if value.trim().is_empty() {
        return Ok(Vec::new());
    }
    value
        .split(',')
        .map(str::trim)
        .map(|part| {
            if part.is_empty() {
                return Err(format!(
                    "the grant header {value:?} has an empty part: its grantees cannot be told"
                ));
            }
            let (key, v) = part
                .split_once('=')
                .ok_or_else(|| format!("the grant header value {part:?} is not key=value"))?;
            let v = v.trim().trim_matches('"').to_string();
            if v.is_empty() {
                return Err(format!("the grant header value {part:?} is empty"));
            }
            let grantee = match key.trim().to_ascii_lowercase().as_str() {
                "id" => Grantee::User(v),
                "uri" => group(&v)?,
                "emailaddress" => Grantee::Email(v),
                other => {
                    return Err(format!(
                        "the grant header names an unknown grantee {other:?}"
                    ))
                }
            };
            Ok(AclGrant {
                grantee,
                permission: permission.to_string(),
            })
        })
        .collect()
}

impl Acl {
    /// The ACL a `PutBucketAcl` (or `CreateBucket`) record sets, from its
    /// `requestParameters`: `Ok(None)` when the call sets none (a `CreateBucket` without
    /// ACL headers). A body and headers together, or any shape not read exactly, is an
    /// error: S3 refuses the first, and the second is never guessed at.
    pub fn from_request(params: &Value) -> Result<Option<Acl>, String> {
        let Value::Object(m) = params else {
            return Err("the call carries no requestParameters".into());
        };
        // Header names are case-insensitive in HTTP; CloudTrail writes them as sent.
        let find = |name: &str| -> Vec<&Value> {
            m.iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .collect()
        };
        let body = find("AccessControlPolicy");
        let canned_v = find("x-amz-acl");
        let headers: Vec<(&str, &str, Vec<&Value>)> = GRANT_HEADERS
            .iter()
            .map(|(h, p)| (*h, *p, find(h)))
            .filter(|(_, _, v)| !v.is_empty())
            .collect();
        if body.len() > 1 || canned_v.len() > 1 || headers.iter().any(|(_, _, v)| v.len() > 1) {
            return Err("the call names its ACL twice (header names differing in case)".into());
        }
        let forms = usize::from(!body.is_empty())
            + usize::from(!canned_v.is_empty())
            + usize::from(!headers.is_empty());
        if forms > 1 {
            return Err(
                "the call sets its ACL in more than one way (body, canned ACL, grant headers), which S3 refuses: it cannot be told which applied".into(),
            );
        }
        if let Some(v) = canned_v.first() {
            return Ok(Some(Acl {
                owner: None,
                owner_name: None,
                grants: canned(&header(v, "x-amz-acl")?)?,
            }));
        }
        if !headers.is_empty() {
            let mut grants = Vec::new();
            for (h, p, v) in headers {
                grants.extend(header_grants(&header(v[0], h)?, p)?);
            }
            return Ok(Some(Acl {
                owner: None,
                owner_name: None,
                grants,
            }));
        }
        let Some(body) = body.first() else {
            return Ok(None);
        };
        let Value::Object(b) = body else {
            return Err("AccessControlPolicy is not an object".into());
        };
        if let Some(k) = b
            .keys()
            .find(|k| !["Owner", "AccessControlList", "xmlns"].contains(&k.as_str()))
        {
            return Err(format!(
                "AccessControlPolicy carries an unknown field {k:?}"
            ));
        }
        let (owner, owner_name) = owner_of(b.get("Owner"))?;
        let grants = match b.get("AccessControlList") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) if s.trim().is_empty() => Vec::new(),
            Some(Value::Object(list)) => {
                if let Some(k) = list.keys().find(|k| *k != "Grant") {
                    return Err(format!("AccessControlList carries an unknown field {k:?}"));
                }
                grants_of(list.get("Grant"), "Grant")?
            }
            Some(_) => return Err("AccessControlList is not an object".into()),
        };
        Ok(Some(Acl {
            owner,
            owner_name,
            grants,
        }))
    }

    /// The ACL in the JSON form the guard reads live and writes back (`GetBucketAcl`'s
    /// output: `Owner` and `Grants`).
    pub fn from_json(v: &Value) -> Result<Acl, String> {
        let Value::Object(m) = v else {
            return Err("the ACL is not an object".into());
        };
        if let Some(k) = m.keys().find(|k| *k != "Owner" && *k != "Grants") {
            return Err(format!("the ACL carries an unknown field {k:?}"));
        }
        let (owner, owner_name) = owner_of(m.get("Owner"))?;
        Ok(Acl {
            owner,
            owner_name,
            grants: grants_of(m.get("Grants"), "Grants")?,
        })
    }

    /// The JSON form (see [`Acl::from_json`]); `None` when a grant names the owner
    /// without its id (a canned ACL read from a record).
    pub fn to_json(&self) -> Option<Value> {
        let grants: Option<Vec<Value>> = self
            .grants
            .iter()
            .map(|g| {
                Some(json!({
                    "Grantee": g.grantee.to_json(self.owner.as_deref())?,
                    "Permission": g.permission,
                }))
            })
            .collect();
        let mut out = Map::new();
        if let Some(id) = &self.owner {
            let mut o = Map::new();
            if let Some(n) = &self.owner_name {
                o.insert("DisplayName".into(), json!(n));
            }
            o.insert("ID".into(), json!(id));
            out.insert("Owner".into(), Value::Object(o));
        }
        out.insert("Grants".into(), Value::Array(grants?));
        Some(Value::Object(out))
    }

    /// Each grant as the bucket policy statement that grants the same: the owner's id is
    /// the owner account, a pairing's canonical id its trusted account, S3's log delivery
    /// the service writing for the owner; any other canonical id, and an e-mail
    /// grantee, stay unresolvable. Statement `i` is grant `i`.
    pub fn as_policy(
        &self,
        resource: &Resource,
        allowlist: &Allowlist,
    ) -> Result<PolicyDocument, String> {
        if self.grants.len() > MAX_GRANTS {
            return Err(format!(
                "the ACL has {} grants; S3 allows at most {MAX_GRANTS}",
                self.grants.len()
            ));
        }
        let bucket = format!("arn:{}:s3:::{}", resource.partition(), resource.name);
        let statements = self
            .grants
            .iter()
            .enumerate()
            .map(|(i, g)| {
                // Read ACLs hold known permissions only; one built otherwise grants
                // something unknown, which is never taken for nothing.
                let actions = actions(&g.permission).ok_or_else(|| {
                    format!("the ACL grants an unknown permission {:?}", g.permission)
                })?;
                let mut st = json!({
                    "Sid": format!("AclGrant{i}"),
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": [bucket.clone(), format!("{bucket}/*")],
                });
                st["Principal"] = match &g.grantee {
                    Grantee::Owner => json!({"AWS": resource.account}),
                    Grantee::User(id) if self.owner.as_deref() == Some(id.as_str()) => {
                        json!({"AWS": resource.account})
                    }
                    Grantee::User(id) => match allowlist.account_of_canonical_id(id) {
                        Some(acct) => json!({"AWS": acct}),
                        None => json!({"CanonicalUser": id}),
                    },
                    Grantee::Group(uri) if uri == LOG_DELIVERY => {
                        st["Condition"] =
                            json!({"StringEquals": {"aws:SourceAccount": resource.account}});
                        json!({"Service": "logging.s3.amazonaws.com"})
                    }
                    Grantee::Group(_) => json!("*"),
                    Grantee::Email(a) => json!({"CanonicalUser": format!("email:{a}")}),
                };
                Ok(st)
            })
            .collect::<Result<Vec<Value>, String>>()?;
        PolicyDocument::from_json(&json!({"Version": "2012-10-17", "Statement": statements}))
            .map_err(|e| format!("the ACL could not be read as grants: {e}"))
    }
}
