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
    /// An SQS queue (its queue policy).
    Queue,
    /// An SNS topic (its topic policy).
    Topic,
    /// A Lambda function (its resource-based policy).
    Function,
    /// A Secrets Manager secret (its resource policy).
    Secret,
    /// An ECR repository (its repository policy).
    Repository,
    /// An EventBridge event bus (its resource-based policy).
    Bus,
    /// An S3 access point (its access point policy).
    #[serde(rename = "access-point")]
    AccessPoint,
}

impl ResourceKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [ResourceKind; 10] = [
        ResourceKind::Bucket,
        ResourceKind::Role,
        ResourceKind::Key,
        ResourceKind::Queue,
        ResourceKind::Topic,
        ResourceKind::Function,
        ResourceKind::Secret,
        ResourceKind::Repository,
        ResourceKind::Bus,
        ResourceKind::AccessPoint,
    ];

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
    /// No statement left: the topic gets SNS's default policy back, which lets in the
    /// owner account alone (a topic always has a policy).
    TopicDefault,
}

/// How the service writes this kind's policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edited {
    /// The whole document at once (PutBucketPolicy, SetQueueAttributes, …).
    Whole,
    /// One statement at a time, by its `Sid` (Lambda's and EventBridge's
    /// AddPermission/RemovePermission): a plan may only drop whole statements that have
    /// a `Sid`; one that would narrow a statement is refused (alert only).
    BySid,
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
    /// After the prefix, without the `-` and six characters Secrets Manager appends to
    /// a secret's name in its ARN (`secret:db-AbCdEf` → `db`).
    SecretName,
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
    /// An SQS queue URL at this path (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`).
    QueueUrl(&'static [&'static str]),
    /// Lambda's `functionName` (a name, a full or partial ARN, possibly qualified) and
    /// `qualifier`, in `requestParameters`.
    LambdaFunction,
    /// This name when the call names none (EventBridge's `default` bus).
    Default(&'static str),
    /// `requestParameters.name` in the account `requestParameters.account` names, when it
    /// names one (ECR's `repositoryName` in `registryId`: another account's registry).
    NamedIn {
        /// The field with the name.
        name: &'static str,
        /// The field with the owning account.
        account: &'static str,
    },
    /// `requestParameters.FIELD`, refused (the record is invalid) when it is an ARN whose
    /// name ends like Secrets Manager's random suffix: a partial ARN of such a name and
    /// a full ARN cannot be told apart.
    UnsuffixedArn(&'static str),
}

/// A call that adds one grant and carries that grant's parts, not the whole policy: the
/// engine builds the statement the service adds (the guard decides on the live policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantShape {
    /// SQS `AddPermission`: `aWSAccountIds`, `actions`, `label`.
    SqsAddPermission,
    /// SNS `AddPermission`: `aWSAccountId`, `actionName`, `label`.
    SnsAddPermission,
    /// Lambda `AddPermission`: `responseElements.statement`, else `principal`, `action`,
    /// `sourceArn`, `sourceAccount`, `principalOrgID`, `functionUrlAuthType`.
    LambdaAddPermission,
    /// EventBridge `PutPermission`: a whole `policy`, else `principal`, `action`,
    /// `statementId`, `condition`.
    EventsPutPermission,
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
    /// The call leaves no policy (deleted, or a new resource without one); the text says
    /// so.
    Absent(&'static str),
    /// A policy attribute among others (SQS `attributes.Policy`, a JSON string): absent,
    /// the call did not touch the policy (`absent`: ignored, or `None` for a create that
    /// sets none); `""` removes it (`emptied`: `Ok(why)`), or cannot be read
    /// (`Err(why)`: a service that takes no empty policy).
    Attribute {
        /// The path of the attribute.
        path: &'static [&'static str],
        /// When the attribute is absent: `Ok(why)` the resource has no policy (a
        /// create), `Err(why)` the call is not a policy change (ignored).
        absent: Result<&'static str, &'static str>,
        /// What an empty value means.
        emptied: Result<&'static str, &'static str>,
    },
    /// An attribute set by name (SNS `SetTopicAttributes`): a policy change only when
    /// the name at `name_path` is `name`; the value at `value_path`.
    Named {
        /// Where the attribute's name is.
        name_path: &'static [&'static str],
        /// The name that makes it a policy change.
        name: &'static str,
        /// Where its value is.
        value_path: &'static [&'static str],
        /// Why another attribute is ignored.
        other: &'static str,
    },
    /// The call adds one grant, described by its parameters.
    Grant(GrantShape),
    /// KMS `CreateGrant`: a grant on the key beside its policy, a door of its own. The
    /// grantee (`granteePrincipal`, `operations`) and the retiring principal are decided
    /// as statements; `constraints` are recorded as conditions; the fix revokes the grant
    /// (`responseElements.grantId`) rather than editing the key policy.
    KmsGrant,
    /// S3 `PutBucketAcl` (and `CreateBucket`'s ACL headers): the bucket ACL the call
    /// sets, a door beside the bucket policy ([`crate::acl`]). A call that sets no ACL
    /// is ignored with `absent`.
    Acl {
        /// Why a call that sets no ACL is ignored (`CreateBucket` without ACL headers);
        /// `None`: the call always sets one (`PutBucketAcl`), so a record where none can
        /// be found was not read, and the live ACL decides.
        absent: Option<&'static str>,
    },
    /// S3 `CreateAccessPoint`: an access point in one account on a bucket of another
    /// (`CreateAccessPointRequest.BucketAccountId`) lets the access point's account at the
    /// bucket: a grant on the *bucket*, owned by the bucket's account, decided as the
    /// record makes it (no live read; the bucket's owner cannot delete another account's
    /// access point, so no fix). An access point in the bucket's own account is ignored
    /// (its policy is decided when it is set).
    AccessPointCreated,
    /// S3 `PutBucketOwnershipControls`: ACLs disabled (`BucketOwnerEnforced`) is ignored;
    /// ACLs enabled again (`ObjectWriter`, `BucketOwnerPreferred`, or any other value)
    /// makes every grant of the bucket's ACL count again: decided on the live ACL (from
    /// the record alone it cannot be checked). `deleted`: `DeleteBucketOwnershipControls`,
    /// after which S3 applies ACLs as under `ObjectWriter`.
    AclsEnabled {
        /// The call removed the ownership controls.
        deleted: bool,
    },
    /// S3 Block Public Access settings (`PublicAccessBlockConfiguration`), on a bucket or
    /// on the whole account ([`crate::bpa`]); `deleted`: the call removed them (all off).
    PublicAccessBlock {
        /// The account's settings, not one bucket's: the resource is `bucket/*`.
        account_wide: bool,
        /// The call deleted the configuration.
        deleted: bool,
    },
    /// The call carries no policy but may open the resource as it stands (a Lambda
    /// function URL with `AuthType` `NONE`): decided on the live policy; from the record
    /// alone it cannot be checked. Ignored with `otherwise` only when the value at `path`
    /// is `safe`.
    Live {
        /// Where the deciding value is.
        path: &'static [&'static str],
        /// The value that makes the call matter.
        equals: &'static str,
        /// The value that makes it not matter; any other (missing, mistyped, spelled
        /// otherwise) leaves the live state to decide.
        safe: &'static str,
        /// Why the call matters, and what the record lacks.
        why: &'static str,
        /// Why the call is ignored otherwise.
        otherwise: &'static str,
    },
}

/// The door a call opens: what the guard reads live and writes back for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Door {
    /// The resource policy.
    Policy,
    /// A KMS grant (decided as the record grants it; revoked by id).
    KmsGrant,
    /// The S3 bucket ACL.
    Acl,
    /// Decided as the record makes it, with no live read (a cross-account access point).
    Record,
    /// S3 Block Public Access, of a bucket or of the account.
    PublicAccessBlock,
}

impl PolicyIn {
    /// The door a call that carries its policy here opens.
    pub fn door(self) -> Door {
        match self {
            PolicyIn::KmsGrant => Door::KmsGrant,
            PolicyIn::AccessPointCreated => Door::Record,
            PolicyIn::Acl { .. } | PolicyIn::AclsEnabled { .. } => Door::Acl,
            PolicyIn::PublicAccessBlock { .. } => Door::PublicAccessBlock,
            _ => Door::Policy,
        }
    }
}

/// The door the guarded call `name` from `source` opens (`None`: not guarded).
pub fn door(source: &str, name: &str) -> Option<Door> {
    event(source, name).map(|(_, e)| e.policy.door())
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
    /// Its Security Hub (ASFF) resource type: `AwsS3Bucket`.
    pub asff_type: &'static str,
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
    /// How the service writes it.
    pub edited: Edited,
}

/// Lambda function URLs: public when `AuthType` is `NONE` and the policy lets `*` in.
const FUNCTION_URL: PolicyIn = PolicyIn::Live {
    path: &["requestParameters", "authType"],
    equals: "NONE",
    safe: "AWS_IAM",
    why: "the function URL takes unsigned calls (AuthType NONE): it is public if the function policy lets everyone invoke it; the record carries no policy, the live one decides",
    otherwise: "a function URL with AWS_IAM auth admits only signed callers the function policy lets in; the policy did not change",
};

/// Every kind crossguard guards, in the order reports list them.
pub static KINDS: [KindSpec; 10] = [
    KindSpec {
        kind: ResourceKind::Bucket,
        name: "bucket",
        policy_name: "bucket policy",
        policy_limit: 20 * 1024,
        cfn_type: "AWS::S3::Bucket",
        asff_type: "AwsS3Bucket",
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
                policy: PolicyIn::Absent("the bucket policy was deleted"),
            },
            EventSpec {
                name: "PutBucketAcl",
                policy: PolicyIn::Acl { absent: None },
            },
            EventSpec {
                name: "CreateBucket",
                policy: PolicyIn::Acl {
                    absent: Some("the bucket was created without an ACL header: its owner alone"),
                },
            },
            // An access point in another account on this bucket: that account's door.
            EventSpec {
                name: "CreateAccessPoint",
                policy: PolicyIn::AccessPointCreated,
            },
            EventSpec {
                name: "PutBucketOwnershipControls",
                policy: PolicyIn::AclsEnabled { deleted: false },
            },
            EventSpec {
                name: "DeleteBucketOwnershipControls",
                policy: PolicyIn::AclsEnabled { deleted: true },
            },
            EventSpec {
                name: "PutBucketPublicAccessBlock",
                policy: PolicyIn::PublicAccessBlock {
                    account_wide: false,
                    deleted: false,
                },
            },
            EventSpec {
                name: "DeleteBucketPublicAccessBlock",
                policy: PolicyIn::PublicAccessBlock {
                    account_wide: false,
                    deleted: true,
                },
            },
            // S3 Control's account settings are recorded as s3.amazonaws.com calls.
            EventSpec {
                name: "PutAccountPublicAccessBlock",
                policy: PolicyIn::PublicAccessBlock {
                    account_wide: true,
                    deleted: false,
                },
            },
            EventSpec {
                name: "DeleteAccountPublicAccessBlock",
                policy: PolicyIn::PublicAccessBlock {
                    account_wide: true,
                    deleted: true,
                },
            },
        ],
        id_from: &[IdFrom::Request("bucketName"), IdFrom::ResourcesEntry],
        id_missing: "has no requestParameters.bucketName",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Role,
        name: "role",
        policy_name: "role trust policy",
        // 2,048 characters by default, 4,096 at most on request.
        policy_limit: 4096,
        cfn_type: "AWS::IAM::Role",
        asff_type: "AwsIamRole",
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
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Key,
        name: "key",
        policy_name: "key policy",
        policy_limit: 32 * 1024,
        cfn_type: "AWS::KMS::Key",
        asff_type: "AwsKmsKey",
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
            EventSpec {
                name: "CreateGrant",
                policy: PolicyIn::KmsGrant,
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
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Queue,
        name: "queue",
        policy_name: "queue policy",
        policy_limit: 8192,
        cfn_type: "AWS::SQS::Queue",
        asff_type: "AwsSqsQueue",
        arn_service: "sqs",
        arn_region: true,
        arn_account: true,
        arn_prefix: "",
        name_in: NameIn::AfterPrefix,
        event_source: "sqs.amazonaws.com",
        events: &[
            EventSpec {
                name: "CreateQueue",
                policy: PolicyIn::Attribute {
                    path: &["requestParameters", "attributes", "Policy"],
                    absent: Ok("the queue was created without a policy: nothing is shared"),
                    emptied: Ok("the queue was created without a policy: nothing is shared"),
                },
            },
            EventSpec {
                name: "SetQueueAttributes",
                policy: PolicyIn::Attribute {
                    path: &["requestParameters", "attributes", "Policy"],
                    absent: Err(
                        "SetQueueAttributes changed other attributes, not the queue policy",
                    ),
                    emptied: Ok("the queue policy was removed"),
                },
            },
            EventSpec {
                name: "AddPermission",
                policy: PolicyIn::Grant(GrantShape::SqsAddPermission),
            },
        ],
        id_from: &[
            IdFrom::QueueUrl(&["requestParameters", "queueUrl"]),
            IdFrom::QueueUrl(&["responseElements", "queueUrl"]),
            IdFrom::Request("queueName"),
        ],
        id_missing: "names no queue (queueUrl / queueName)",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Topic,
        name: "topic",
        policy_name: "topic policy",
        policy_limit: 30 * 1024,
        cfn_type: "AWS::SNS::Topic",
        asff_type: "AwsSnsTopic",
        arn_service: "sns",
        arn_region: true,
        arn_account: true,
        arn_prefix: "",
        name_in: NameIn::AfterPrefix,
        event_source: "sns.amazonaws.com",
        events: &[
            EventSpec {
                name: "CreateTopic",
                policy: PolicyIn::Attribute {
                    path: &["requestParameters", "attributes", "Policy"],
                    absent: Ok(
                        "the topic was created with SNS's default policy: the owner account alone",
                    ),
                    emptied: Err("CreateTopic carries an empty Policy"),
                },
            },
            EventSpec {
                name: "SetTopicAttributes",
                policy: PolicyIn::Named {
                    name_path: &["requestParameters", "attributeName"],
                    name: "Policy",
                    value_path: &["requestParameters", "attributeValue"],
                    other: "SetTopicAttributes changed another attribute, not the topic policy",
                },
            },
            EventSpec {
                name: "AddPermission",
                policy: PolicyIn::Grant(GrantShape::SnsAddPermission),
            },
        ],
        id_from: &[
            IdFrom::Request("topicArn"),
            IdFrom::Path(&["responseElements", "topicArn"]),
            IdFrom::Request("name"),
        ],
        id_missing: "names no topic (topicArn / name)",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::TopicDefault,
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Function,
        name: "function",
        policy_name: "function policy",
        policy_limit: 20 * 1024,
        cfn_type: "AWS::Lambda::Function",
        asff_type: "AwsLambdaFunction",
        arn_service: "lambda",
        arn_region: true,
        arn_account: true,
        arn_prefix: "function:",
        name_in: NameIn::AfterPrefix,
        event_source: "lambda.amazonaws.com",
        events: &[
            EventSpec {
                name: "AddPermission20150331v2",
                policy: PolicyIn::Grant(GrantShape::LambdaAddPermission),
            },
            EventSpec {
                name: "AddPermission20150331",
                policy: PolicyIn::Grant(GrantShape::LambdaAddPermission),
            },
            EventSpec {
                name: "CreateFunctionUrlConfig20211031",
                policy: FUNCTION_URL,
            },
            EventSpec {
                name: "UpdateFunctionUrlConfig20211031",
                policy: FUNCTION_URL,
            },
        ],
        id_from: &[IdFrom::LambdaFunction],
        id_missing: "has no requestParameters.functionName",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::BySid,
    },
    KindSpec {
        kind: ResourceKind::Secret,
        name: "secret",
        policy_name: "secret resource policy",
        policy_limit: 20 * 1024,
        cfn_type: "AWS::SecretsManager::Secret",
        asff_type: "AwsSecretsManagerSecret",
        arn_service: "secretsmanager",
        arn_region: true,
        arn_account: true,
        arn_prefix: "secret:",
        name_in: NameIn::SecretName,
        event_source: "secretsmanager.amazonaws.com",
        events: &[
            EventSpec {
                name: "PutResourcePolicy",
                policy: PolicyIn::Field {
                    paths: &[&["requestParameters", "resourcePolicy"]],
                    missing: "PutResourcePolicy carries no resourcePolicy",
                },
            },
            EventSpec {
                name: "DeleteResourcePolicy",
                policy: PolicyIn::Absent("the secret's resource policy was deleted"),
            },
        ],
        // The response's ARN first: it is always the full one. A partial ARN in the
        // request cannot be told from a full one whose name ends like a suffix.
        id_from: &[
            IdFrom::Path(&["responseElements", "aRN"]),
            IdFrom::UnsuffixedArn("secretId"),
        ],
        id_missing: "has no requestParameters.secretId",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Repository,
        name: "repository",
        policy_name: "repository policy",
        policy_limit: 10 * 1024,
        cfn_type: "AWS::ECR::Repository",
        asff_type: "AwsEcrRepository",
        arn_service: "ecr",
        arn_region: true,
        arn_account: true,
        arn_prefix: "repository/",
        name_in: NameIn::AfterPrefix,
        event_source: "ecr.amazonaws.com",
        events: &[
            EventSpec {
                name: "SetRepositoryPolicy",
                policy: PolicyIn::Field {
                    paths: &[&["requestParameters", "policyText"]],
                    missing: "SetRepositoryPolicy carries no policyText",
                },
            },
            EventSpec {
                name: "DeleteRepositoryPolicy",
                policy: PolicyIn::Absent("the repository policy was deleted"),
            },
        ],
        id_from: &[IdFrom::NamedIn {
            name: "repositoryName",
            account: "registryId",
        }],
        id_missing: "has no requestParameters.repositoryName",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::Whole,
    },
    KindSpec {
        kind: ResourceKind::Bus,
        name: "bus",
        policy_name: "event bus policy",
        // AWS documents no figure for the bus policy; ECR's 10 KB is the closest peer.
        policy_limit: 10 * 1024,
        cfn_type: "AWS::Events::EventBus",
        asff_type: "AwsEventsEventbus",
        arn_service: "events",
        arn_region: true,
        arn_account: true,
        arn_prefix: "event-bus/",
        name_in: NameIn::AfterPrefix,
        event_source: "events.amazonaws.com",
        events: &[
            EventSpec {
                name: "PutPermission",
                policy: PolicyIn::Grant(GrantShape::EventsPutPermission),
            },
            EventSpec {
                name: "CreateEventBus",
                policy: PolicyIn::Absent("a new event bus has no policy: nothing is shared"),
            },
        ],
        id_from: &[
            IdFrom::Request("eventBusName"),
            IdFrom::Request("name"),
            IdFrom::Default("default"),
        ],
        id_missing: "names no event bus",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::BySid,
    },
    KindSpec {
        kind: ResourceKind::AccessPoint,
        name: "access-point",
        policy_name: "access point policy",
        policy_limit: 20 * 1024,
        cfn_type: "AWS::S3::AccessPoint",
        asff_type: "AwsS3AccessPoint",
        arn_service: "s3",
        arn_region: true,
        arn_account: true,
        arn_prefix: "accesspoint/",
        name_in: NameIn::AfterPrefix,
        // S3 Control's calls are recorded as s3.amazonaws.com calls.
        event_source: "s3.amazonaws.com",
        events: &[
            EventSpec {
                name: "PutAccessPointPolicy",
                policy: PolicyIn::Field {
                    paths: &[
                        &["requestParameters", "PutAccessPointPolicyRequest", "Policy"],
                        &["requestParameters", "policy"],
                    ],
                    missing: "PutAccessPointPolicy carries no PutAccessPointPolicyRequest.Policy",
                },
            },
            EventSpec {
                name: "DeleteAccessPointPolicy",
                policy: PolicyIn::Absent("the access point policy was deleted"),
            },
        ],
        id_from: &[IdFrom::Request("name"), IdFrom::Request("accessPointName")],
        id_missing: "names no access point (requestParameters.name)",
        service_principals: ServicePrincipals::AnyAccount,
        external_id: false,
        emptied: Emptied::Delete,
        edited: Edited::Whole,
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

/// The guarded call `name` from `source`, with its kind. Names alone are not unique
/// (SQS and SNS both have `AddPermission`).
pub fn event(source: &str, name: &str) -> Option<(&'static KindSpec, &'static EventSpec)> {
    KINDS
        .iter()
        .filter(|k| k.event_source == source)
        .find_map(|k| k.events.iter().find(|e| e.name == name).map(|e| (k, e)))
}

/// Whether any kind guards a call of this name (from whichever source).
pub fn is_guarded_name(name: &str) -> bool {
    guarded_events().any(|(n, _, _)| n == name)
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
        let calls: Vec<(&str, &str)> = guarded_events().map(|(n, s, _)| (n, s)).collect();
        for c in &calls {
            assert_eq!(calls.iter().filter(|m| *m == c).count(), 1, "{c:?}");
        }
    }
}
