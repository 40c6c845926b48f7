//! The registry of resource kinds: everything the engine knows about a kind of resource,
//! in one entry per kind. Names, ARNs, policy limits, the CloudTrail events that change
//! the policy and where each carries the resource and the policy, what a service
//! principal means in it, and what a policy left empty becomes are read from here; the
//! CLI, the guard and the templates' event rules are built from it or checked against it.
//! Adding a kind is one entry here (and its adapter in the guard); see the README.

use serde::Serialize;
use std::fmt;

/// A kind of resource crossguard guards; what differs between kinds is in [`KINDS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum ResourceKind {
    /// An S3 bucket (its bucket policy).
    Bucket,
    /// An IAM role (its trust policy).
    Role,
    /// A KMS key (its key policy).
    Key,
}

impl ResourceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ResourceKind; 3] =
        [ResourceKind::Bucket, ResourceKind::Role, ResourceKind::Key];

    /// As the allowlist and the CLI write it.
    pub fn as_str(self) -> &'static str {
        self.spec().name
    }

    /// The kind an allowlist or CLI name stands for.
    pub fn parse(s: &str) -> Option<ResourceKind> {
        ResourceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The size limit AWS sets for this kind's policy, and what to call it in errors.
    /// Role trust policies: 2,048 characters by default, 4,096 at most on request.
    pub fn policy_limit(self) -> (usize, &'static str) {
        let spec = self.spec();
        (spec.policy_limit, spec.policy_name)
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a policy becomes when the remediation plan leaves nothing approved in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Emptied {
    /// No statement left: the policy is deleted (a resource may have none).
    Delete,
    /// No `Allow` left: replaced by a policy that denies everyone (a role must keep a
    /// trust policy).
    DenyAll,
    /// The owner's administration statement is kept or put back (a key without it can
    /// no longer be managed by its account).
    OwnerAdmin,
}

/// What a service principal (`"Service": "…amazonaws.com"`) in this kind's policy lets
/// in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServicePrincipals {
    /// The service acts for the owner: in a role trust it assumes the owner's own role.
    ActForOwner,
    /// The service acts for whichever account asks unless `aws:SourceAccount`,
    /// `aws:SourceArn` or `aws:SourceOrgID` narrow it (the confused deputy): a warning.
    AnyAccount,
}

/// Where a resource's name stands in its ARN's resource part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameIn {
    /// Everything after the prefix (`key/ID`, a bucket name).
    AfterPrefix,
    /// The last `/`-part (`role/path/to/Name`: IAM names carry no path).
    LastPart,
}

/// Where an event says which resource it changed, tried in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFrom {
    /// `requestParameters.FIELD`.
    Request(&'static str),
    /// A string at this path of the record (an ARN or a name).
    Path(&'static [&'static str]),
    /// An ARN at this path, only when it is in the owner's account.
    OwnersArn(&'static [&'static str]),
    /// The `ARN` of the record's `resources[]` entry of the kind's CloudFormation type.
    ResourcesEntry,
}

/// Where an event carries the policy it set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyIn {
    /// At the first of these paths that is present; the message when none is.
    Field {
        /// Paths tried in order.
        paths: &'static [&'static [&'static str]],
        /// The reason when none is present.
        missing: &'static str,
    },
    /// At this path; when absent, the kind's default policy applies (`default` says
    /// what it lets in); an empty value is unreadable (`empty`).
    FieldOrDefault {
        /// The path.
        path: &'static [&'static str],
        /// What the default lets in, when the path is absent.
        default: &'static str,
        /// The reason when the value is empty.
        empty: &'static str,
    },
    /// The call removed the policy; the text says so.
    Removed(&'static str),
}

/// One CloudTrail call that changes a kind's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventSpec {
    /// `eventName`.
    pub name: &'static str,
    /// Where the policy is in the record.
    pub policy: PolicyIn,
}

/// Everything the engine knows about one kind of resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindSpec {
    /// The kind.
    pub kind: ResourceKind,
    /// As the allowlist, the CLI and the JSON output write it: `bucket`.
    pub name: &'static str,
    /// What its policy is called in messages: `bucket policy`.
    pub policy_name: &'static str,
    /// AWS's size limit for the policy, in bytes without white space.
    pub policy_limit: usize,
    /// The CloudFormation resource type (CloudTrail's `resources[].type` too).
    pub cfn_type: &'static str,
    /// The service in its ARN: `s3`.
    pub arn_service: &'static str,
    /// Whether its ARN names the region (an IAM role's does not).
    pub arn_region: bool,
    /// Whether its ARN names the account (a bucket's does not).
    pub arn_account: bool,
    /// What stands before the name in the ARN's resource part: `role/`.
    pub arn_prefix: &'static str,
    /// Where the name is in the ARN's resource part.
    pub name_in: NameIn,
    /// `eventSource` of the calls that change it.
    pub event_source: &'static str,
    /// The calls that change its policy.
    pub events: &'static [EventSpec],
    /// Where those calls name the resource, tried in order; the message when none does.
    pub id_from: &'static [IdFrom],
    /// The reason when none of `id_from` is present (after the event name).
    pub id_missing: &'static str,
    /// What a service principal in its policy lets in.
    pub service_principals: ServicePrincipals,
    /// Whether a pairing's `require_external_id` applies (a role trust's
    /// `sts:ExternalId`).
    pub external_id: bool,
    /// What the policy becomes when nothing approved is left in it.
    pub emptied: Emptied,
}

/// Every kind crossguard guards, in the order reports list them.
pub static KINDS: [KindSpec; 3] = [
    KindSpec {
        kind: ResourceKind::Bucket,
        name: "bucket",
        policy_name: "bucket policy",
        policy_limit: 20 * 1024,
        cfn_type: "AWS::S3::Bucket",
        arn_service: "s3",
        arn_region: false,
        arn_account: false,
        arn_prefix: "",
        name_in: NameIn::AfterPrefix,
        event_source: "s3.amazonaws.com",
        events: &[
            EventSpec {
                name: "PutBucketPolicy",
                policy: PolicyIn::Field {
                    paths: &[&["requestParameters", "bucketPolicy"]],
                    missing: "PutBucketPolicy carries no requestParameters.bucketPolicy",
                },
            },
            EventSpec {
                name: "DeleteBucketPolicy",
                policy: PolicyIn::Removed("the bucket policy was deleted"),
            },
        ],
        id_from: &[IdFrom::Request("bucketName"), IdFrom::ResourcesEntry],
        id_missing: "has no requestParameters.bucketName",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
    },
    KindSpec {
        kind: ResourceKind::Role,
        name: "role",
        policy_name: "role trust policy",
        // 2,048 characters by default, 4,096 at most on request.
        policy_limit: 4096,
        cfn_type: "AWS::IAM::Role",
        arn_service: "iam",
        arn_region: false,
        arn_account: true,
        arn_prefix: "role/",
        name_in: NameIn::LastPart,
        event_source: "iam.amazonaws.com",
        events: &[
            EventSpec {
                name: "CreateRole",
                policy: PolicyIn::Field {
                    paths: &[
                        &["requestParameters", "assumeRolePolicyDocument"],
                        &["responseElements", "role", "assumeRolePolicyDocument"],
                    ],
                    missing: "CreateRole carries no assumeRolePolicyDocument",
                },
            },
            EventSpec {
                name: "UpdateAssumeRolePolicy",
                policy: PolicyIn::Field {
                    paths: &[&["requestParameters", "policyDocument"]],
                    missing: "UpdateAssumeRolePolicy carries no policyDocument",
                },
            },
        ],
        id_from: &[
            IdFrom::OwnersArn(&["responseElements", "role", "arn"]),
            IdFrom::Request("roleName"),
        ],
        id_missing: "has no requestParameters.roleName",
        service_principals: ServicePrincipals::ActForOwner,
        external_id: true,
        emptied: Emptied::DenyAll,
    },
    KindSpec {
        kind: ResourceKind::Key,
        name: "key",
        policy_name: "key policy",
        policy_limit: 32 * 1024,
        cfn_type: "AWS::KMS::Key",
        arn_service: "kms",
        arn_region: true,
        arn_account: true,
        arn_prefix: "key/",
        name_in: NameIn::LastPart,
        event_source: "kms.amazonaws.com",
        events: &[
            EventSpec {
                name: "CreateKey",
                policy: PolicyIn::FieldOrDefault {
                    path: &["requestParameters", "policy"],
                    default:
                        "the key was created with the default key policy: the owner account alone",
                    empty: "CreateKey carries an empty policy",
                },
            },
            EventSpec {
                name: "PutKeyPolicy",
                policy: PolicyIn::Field {
                    paths: &[&["requestParameters", "policy"]],
                    missing: "PutKeyPolicy carries no policy",
                },
            },
        ],
        id_from: &[
            IdFrom::Path(&["responseElements", "keyMetadata", "arn"]),
            IdFrom::ResourcesEntry,
            IdFrom::Request("keyId"),
        ],
        id_missing: "names no key (keyId / keyMetadata)",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::OwnerAdmin,
    },
];

impl ResourceKind {
    /// This kind's entry in [`KINDS`].
    pub fn spec(self) -> &'static KindSpec {
        match KINDS.iter().find(|s| s.kind == self) {
            Some(s) => s,
            // Every kind has an entry: a unit test checks it.
            None => unreachable!("resource kind {self:?} has no registry entry"),
        }
    }
}

/// Every guarded call: its `eventName`, `eventSource` and the kind it changes.
pub fn guarded_events() -> impl Iterator<Item = (&'static str, &'static str, ResourceKind)> {
    KINDS.iter().flat_map(|k| {
        k.events
            .iter()
            .map(move |e| (e.name, k.event_source, k.kind))
    })
}

/// The guarded call named `name`, with its kind.
pub fn event(name: &str) -> Option<(&'static KindSpec, &'static EventSpec)> {
    KINDS
        .iter()
        .find_map(|k| k.events.iter().find(|e| e.name == name).map(|e| (k, e)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_entry_and_every_event_one_kind() {
        for kind in ResourceKind::ALL {
            assert_eq!(KINDS.iter().filter(|s| s.kind == kind).count(), 1);
            assert_eq!(kind.spec().kind, kind);
        }
        assert_eq!(KINDS.len(), ResourceKind::ALL.len());
        let names: Vec<&str> = guarded_events().map(|(n, _, _)| n).collect();
        for n in &names {
            assert_eq!(names.iter().filter(|m| *m == n).count(), 1, "{n}");
        }
    }
}
