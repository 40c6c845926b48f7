//! The ports backed by the AWS SDK for Rust.

use crate::ports::{AlertSink, AwsError, Created, EvidenceStore};
#[cfg(any(feature = "bucket", feature = "role", feature = "key"))]
use crate::ports::{Live, PolicyStore};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_types::SdkConfig;
use crossguard_engine::alert::Alert;
use crossguard_engine::Resource;
#[cfg(any(feature = "bucket", feature = "role", feature = "key"))]
use crossguard_engine::ResourceKind;
#[cfg(feature = "bucket")]
use serde_json::{json, Value};

/// Turn any SDK error into an [`AwsError`]: the service's code and message when it sent
/// them, else the whole error chain (timeouts, connection failures).
pub fn aws_error<E>(operation: &'static str, err: &E) -> AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err.code() {
        Some(code) => AwsError {
            operation,
            code: Some(code.to_string()),
            message: err.message().unwrap_or("").to_string(),
        },
        None => AwsError::local(operation, DisplayErrorContext(err).to_string()),
    }
}

/// The resource must be in the client's region: a lookup by name elsewhere would find
/// nothing (read as "nothing shared") or a namesake.
#[cfg_attr(not(any(feature = "key", feature = "stores")), allow(dead_code))]
pub fn same_region(
    client: Option<&aws_types::region::Region>,
    r: &Resource,
) -> Result<(), AwsError> {
    let theirs = crossguard_engine::principal::parse_arn(&r.arn)
        .map(|a| a.region)
        .filter(|reg| !reg.is_empty());
    match (client, theirs) {
        (Some(ours), Some(theirs)) if ours.as_ref() != theirs => Err(AwsError::local(
            "read",
            format!(
                "{} is in {theirs}; this function reads {}: not read, decide it there",
                r.arn,
                ours.as_ref()
            ),
        )),
        _ => Ok(()),
    }
}

/// An S3 client for this configuration. Path-style addressing when an endpoint is set
/// (a local emulator has no per-bucket DNS names).
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let mut b = aws_sdk_s3::config::Builder::from(config);
    if config.endpoint_url().is_some() {
        b = b.force_path_style(true);
    }
    aws_sdk_s3::Client::from_conf(b.build())
}

/// An S3 object's bytes (`None`: no such key). The evidence store and the allowlist
/// loader both read through here.
pub async fn get_object(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, AwsError> {
    match client.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => {
            let bytes = out
                .body
                .collect()
                .await
                .map_err(|e| AwsError::local("GetObject", e.to_string()))?;
            Ok(Some(bytes.to_vec()))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
        {
            Ok(None)
        }
        Err(e) => Err(aws_error("GetObject", &e)),
    }
}

/// S3 bucket policies, ACLs and Block Public Access (the account's through S3 Control).
#[cfg(feature = "bucket")]
#[derive(Clone)]
pub struct BucketPolicies {
    pub s3: aws_sdk_s3::Client,
    pub control: aws_sdk_s3control::Client,
}

#[cfg(feature = "bucket")]
impl BucketPolicies {
    /// Clients for this configuration (path-style S3 against an emulator).
    pub fn new(config: &SdkConfig) -> BucketPolicies {
        BucketPolicies {
            s3: s3_client(config),
            control: s3control_client(config),
        }
    }
}

/// An S3 Control client for this configuration. S3 Control puts the account id in front
/// of the host name; an emulator's endpoint has no such names, so with an endpoint set
/// every call goes to it as given.
#[cfg(any(feature = "bucket", feature = "access-point"))]
pub fn s3control_client(config: &SdkConfig) -> aws_sdk_s3control::Client {
    let mut control = aws_sdk_s3control::config::Builder::from(config);
    if let Some(url) = config.endpoint_url() {
        control = control.endpoint_resolver(FixedEndpoint(url.to_string()));
    }
    aws_sdk_s3control::Client::from_conf(control.build())
}

/// One endpoint for every S3 Control call (`AWS_ENDPOINT_URL` set: a local emulator).
#[cfg(any(feature = "bucket", feature = "access-point"))]
#[derive(Debug)]
struct FixedEndpoint(String);

#[cfg(any(feature = "bucket", feature = "access-point"))]
impl aws_sdk_s3control::config::endpoint::ResolveEndpoint for FixedEndpoint {
    fn resolve_endpoint<'a>(
        &'a self,
        _: &'a aws_sdk_s3control::config::endpoint::Params,
    ) -> aws_sdk_s3control::config::endpoint::EndpointFuture<'a> {
        aws_sdk_s3control::config::endpoint::EndpointFuture::ready(Ok(
            aws_sdk_s3control::config::endpoint::Endpoint::builder()
                .url(self.0.clone())
                .build(),
        ))
    }
}

/// S3's and S3 Control's `PublicAccessBlockConfiguration`: two types, the same four
/// fields, in the engine's order ([`crossguard_engine::bpa::SETTINGS`]).
#[cfg(feature = "bucket")]
macro_rules! settings_of {
    ($c:expr) => {
        [
            $c.block_public_acls,
            $c.ignore_public_acls,
            $c.block_public_policy,
            $c.restrict_public_buckets,
        ]
    };
}

/// The four settings built into either SDK's configuration type.
#[cfg(feature = "bucket")]
macro_rules! configuration {
    ($ty:ty, $s:expr) => {
        <$ty>::builder()
            .block_public_acls($s[0])
            .ignore_public_acls($s[1])
            .block_public_policy($s[2])
            .restrict_public_buckets($s[3])
            .build()
    };
}

/// Block Public Access settings as S3 answers them (`None`: none configured), in the
/// JSON form the engine reads.
#[cfg(feature = "bucket")]
fn settings_json(four: Option<[Option<bool>; 4]>) -> Value {
    let mut m = serde_json::Map::new();
    // A setting S3 leaves out (or no configuration at all) is off, as S3 applies it.
    for ((name, _), v) in crossguard_engine::bpa::SETTINGS
        .iter()
        .zip(four.unwrap_or([None; 4]))
    {
        m.insert((*name).to_string(), json!(v.unwrap_or(false)));
    }
    Value::Object(m)
}

#[cfg(feature = "bucket")]
impl PolicyStore for BucketPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Bucket
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.s3.get_bucket_policy().bucket(&r.name).send().await {
            Ok(out) => Ok(out.policy.map(Live::Policy).unwrap_or(Live::NoPolicy)),
            Err(e) => match e.code() {
                Some("NoSuchBucketPolicy") => Ok(Live::NoPolicy),
                Some("NoSuchBucket") => Ok(Live::Gone),
                _ => Err(aws_error("GetBucketPolicy", &e)),
            },
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.s3
            .put_bucket_policy()
            .bucket(&r.name)
            .policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutBucketPolicy", &e))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.s3
            .delete_bucket_policy()
            .bucket(&r.name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteBucketPolicy", &e))
    }

    async fn read_acl(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.s3.get_bucket_acl().bucket(&r.name).send().await {
            Ok(out) => Ok(Live::Acl(acl_json(&out))),
            Err(e) if e.code() == Some("NoSuchBucket") => Ok(Live::Gone),
            Err(e) => Err(aws_error("GetBucketAcl", &e)),
        }
    }

    async fn write_acl(&self, r: &Resource, acl: &Value) -> Result<(), AwsError> {
        let policy = acl_policy(acl).map_err(|e| AwsError::local("PutBucketAcl", e))?;
        self.s3
            .put_bucket_acl()
            .bucket(&r.name)
            .access_control_policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutBucketAcl", &e))
    }

    async fn read_public_access_block(&self, r: &Resource) -> Result<Live, AwsError> {
        // None configured reads as every setting off, as S3 applies it.
        let none = |code: Option<&str>| code == Some("NoSuchPublicAccessBlockConfiguration");
        if r.is_every_bucket() {
            return match self
                .control
                .get_public_access_block()
                .account_id(&r.account)
                .send()
                .await
            {
                Ok(out) => Ok(Live::Settings(settings_json(
                    out.public_access_block_configuration
                        .map(|c| settings_of!(c)),
                ))),
                Err(e) if none(e.code()) => Ok(Live::Settings(settings_json(None))),
                Err(e) => Err(aws_error("GetPublicAccessBlock (account)", &e)),
            };
        }
        match self
            .s3
            .get_public_access_block()
            .bucket(&r.name)
            .send()
            .await
        {
            Ok(out) => Ok(Live::Settings(settings_json(
                out.public_access_block_configuration
                    .map(|c| settings_of!(c)),
            ))),
            Err(e) if none(e.code()) => Ok(Live::Settings(settings_json(None))),
            Err(e) if e.code() == Some("NoSuchBucket") => Ok(Live::Gone),
            Err(e) => Err(aws_error("GetPublicAccessBlock", &e)),
        }
    }

    async fn write_public_access_block(
        &self,
        r: &Resource,
        settings: &Value,
    ) -> Result<(), AwsError> {
        let s = crossguard_engine::bpa::PublicAccessBlock::from_json(settings)
            .map_err(|e| AwsError::local("PutPublicAccessBlock", e))?
            .0;
        if r.is_every_bucket() {
            let c = configuration!(aws_sdk_s3control::types::PublicAccessBlockConfiguration, s);
            return self
                .control
                .put_public_access_block()
                .account_id(&r.account)
                .public_access_block_configuration(c)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws_error("PutPublicAccessBlock (account)", &e));
        }
        let c = configuration!(aws_sdk_s3::types::PublicAccessBlockConfiguration, s);
        self.s3
            .put_public_access_block()
            .bucket(&r.name)
            .public_access_block_configuration(c)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutPublicAccessBlock", &e))
    }
}

#[cfg(feature = "bucket")]
/// `GetBucketAcl`'s answer in the JSON form the engine reads ([`crossguard_engine::acl`]).
/// Every field is carried as S3 sent it, an unknown grantee type or permission too: the
/// engine refuses what it does not know rather than this reading it as nothing.
fn acl_json(out: &aws_sdk_s3::operation::get_bucket_acl::GetBucketAclOutput) -> Value {
    let mut acl = serde_json::Map::new();
    if let Some(o) = &out.owner {
        let mut owner = serde_json::Map::new();
        if let Some(n) = &o.display_name {
            owner.insert("DisplayName".into(), json!(n));
        }
        owner.insert("ID".into(), json!(o.id));
        acl.insert("Owner".into(), Value::Object(owner));
    }
    let grants: Vec<Value> = out
        .grants()
        .iter()
        .map(|g| {
            let mut grantee = serde_json::Map::new();
            if let Some(ge) = &g.grantee {
                grantee.insert("Type".into(), json!(ge.r#type.as_str()));
                for (k, v) in [
                    ("ID", &ge.id),
                    ("URI", &ge.uri),
                    ("EmailAddress", &ge.email_address),
                ] {
                    if let Some(v) = v {
                        grantee.insert(k.into(), json!(v));
                    }
                }
            }
            json!({
                "Grantee": Value::Object(grantee),
                "Permission": g.permission.as_ref().map(aws_sdk_s3::types::Permission::as_str),
            })
        })
        .collect();
    acl.insert("Grants".into(), Value::Array(grants));
    Value::Object(acl)
}

#[cfg(feature = "bucket")]
/// The JSON form back into `PutBucketAcl`'s body, checked by the engine's reader first.
fn acl_policy(v: &Value) -> Result<aws_sdk_s3::types::AccessControlPolicy, String> {
    use aws_sdk_s3::types::{Grant, Grantee, Owner, Permission, Type};
    let acl = crossguard_engine::acl::Acl::from_json(v)?;
    let owner = acl.owner.ok_or("the ACL to put names no owner")?;
    let grants = acl
        .grants
        .iter()
        .map(|g| {
            let b = match &g.grantee {
                crossguard_engine::acl::Grantee::User(id) => {
                    Grantee::builder().r#type(Type::CanonicalUser).id(id)
                }
                crossguard_engine::acl::Grantee::Owner => {
                    Grantee::builder().r#type(Type::CanonicalUser).id(&owner)
                }
                crossguard_engine::acl::Grantee::Group(uri) => {
                    Grantee::builder().r#type(Type::Group).uri(uri)
                }
                crossguard_engine::acl::Grantee::Email(a) => Grantee::builder()
                    .r#type(Type::AmazonCustomerByEmail)
                    .email_address(a),
            };
            let grantee = b.build().map_err(|e| e.to_string())?;
            Ok(Grant::builder()
                .grantee(grantee)
                .permission(Permission::from(g.permission.as_str()))
                .build())
        })
        .collect::<Result<Vec<_>, String>>()?;
    let mut owner_b = Owner::builder().id(owner);
    if let Some(n) = acl.owner_name {
        owner_b = owner_b.display_name(n);
    }
    Ok(aws_sdk_s3::types::AccessControlPolicy::builder()
        .owner(owner_b.build())
        .set_grants(Some(grants))
        .build())
}

/// IAM role trust policies.
#[cfg(feature = "role")]
#[derive(Clone)]
pub struct RoleTrusts(pub aws_sdk_iam::Client);

#[cfg(feature = "role")]
impl PolicyStore for RoleTrusts {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Role
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.0.get_role().role_name(&r.name).send().await {
            // IAM returns the document URL-encoded: the engine's parser decodes it.
            Ok(out) => Ok(out
                .role
                .and_then(|role| role.assume_role_policy_document)
                .map(Live::Policy)
                .unwrap_or(Live::NoPolicy)),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_iam::operation::get_role::GetRoleError::is_no_such_entity_exception,
                ) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("GetRole", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .update_assume_role_policy()
            .role_name(&r.name)
            .policy_document(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("UpdateAssumeRolePolicy", &e))
    }

    async fn delete(&self, _: &Resource) -> Result<(), AwsError> {
        Err(AwsError::local(
            "UpdateAssumeRolePolicy",
            "a role always has a trust policy: the plan must replace it",
        ))
    }
}

/// KMS key policies (the key's only policy, named `default`).
#[cfg(feature = "key")]
#[derive(Clone)]
pub struct KeyPolicies(pub aws_sdk_kms::Client);

#[cfg(feature = "key")]
impl PolicyStore for KeyPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Key
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
        match self
            .0
            .get_key_policy()
            .key_id(&r.name)
            .policy_name("default")
            .send()
            .await
        {
            Ok(out) => Ok(out.policy.map(Live::Policy).unwrap_or(Live::NoPolicy)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_kms::operation::get_key_policy::GetKeyPolicyError::is_not_found_exception) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("GetKeyPolicy", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .put_key_policy()
            .key_id(&r.name)
            .policy_name("default")
            .policy(policy)
            // The engine's plan always keeps the owner's administration statement; KMS's
            // own lockout check stays on as a second guard.
            .bypass_policy_lockout_safety_check(false)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutKeyPolicy", &e))
    }

    async fn delete(&self, _: &Resource) -> Result<(), AwsError> {
        Err(AwsError::local(
            "PutKeyPolicy",
            "a key always has a key policy: the plan must replace it",
        ))
    }

    async fn revoke_grant(&self, r: &Resource, grant_id: &str) -> Result<(), AwsError> {
        same_region(self.0.config().region(), r)?;
        match self
            .0
            .revoke_grant()
            .key_id(&r.name)
            .grant_id(grant_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Not found is not "revoked": a new grant may not have reached every KMS host
            // yet, or the key is another. A failure, so it is alerted as one.
            Err(e) => Err(aws_error("RevokeGrant", &e)),
        }
    }
}

#[cfg(feature = "key")]
impl KeyPolicies {
    /// A key's grants, page by page, each as `CreateGrant` names its parameters (what
    /// `crossguard_engine::event::kms_grant_listed` reads).
    pub async fn list_grants(&self, key_id: &str) -> Result<Vec<serde_json::Value>, AwsError> {
        let grants = self
            .0
            .list_grants()
            .key_id(key_id)
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListGrants", &e))?;
        Ok(grants
            .iter()
            .map(|g| {
                let constraints = g.constraints().map(|c| {
                    serde_json::json!({
                        "encryptionContextSubset": c.encryption_context_subset(),
                        "encryptionContextEquals": c.encryption_context_equals(),
                        "sourceArn": c.source_arn(),
                    })
                });
                serde_json::json!({
                    "grantId": g.grant_id(),
                    "granteePrincipal": g.grantee_principal().or(g.grantee_service_principal()),
                    "retiringPrincipal": g.retiring_principal().or(g.retiring_service_principal()),
                    "operations": g.operations().iter().map(aws_sdk_kms::types::GrantOperation::as_str).collect::<Vec<_>>(),
                    "constraints": constraints,
                })
            })
            .collect())
    }
}

/// The SNS alert topic.
#[derive(Clone)]
pub struct SnsTopic {
    pub client: aws_sdk_sns::Client,
    pub topic_arn: String,
}

impl AlertSink for SnsTopic {
    async fn publish(&self, alert: &Alert) -> Result<String, AwsError> {
        match &alert.structured {
            // Each subscriber protocol gets its own form of the alert; should SNS refuse
            // that form, the plain body still goes out.
            Some(m) => match self.send(alert, Some(m)).await {
                Ok(id) => Ok(id),
                Err(e) => {
                    tracing::warn!(error = %e, "per-protocol alert refused: sending the plain body");
                    self.send(alert, None).await
                }
            },
            None => self.send(alert, None).await,
        }
    }
}

impl SnsTopic {
    async fn send(&self, alert: &Alert, structured: Option<&String>) -> Result<String, AwsError> {
        let mut req = self
            .client
            .publish()
            .topic_arn(&self.topic_arn)
            .subject(&alert.subject);
        req = match structured {
            Some(m) => req.message_structure("json").message(m),
            None => req.message(&alert.body),
        };
        for (name, value) in &alert.attributes {
            let attr = aws_sdk_sns::types::MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| {
                    AwsError::local("Publish", format!("message attribute {name}: {e}"))
                })?;
            req = req.message_attributes(*name, attr);
        }
        let out = req.send().await.map_err(|e| aws_error("Publish", &e))?;
        Ok(out.message_id.unwrap_or_default())
    }
}

/// The evidence bucket.
#[derive(Clone)]
pub struct S3Evidence {
    pub client: aws_sdk_s3::Client,
    pub bucket: String,
}

impl EvidenceStore for S3Evidence {
    async fn create(&self, key: &str, body: Vec<u8>) -> Result<Created, AwsError> {
        let res = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .if_none_match("*")
            .body(body.into())
            .send()
            .await;
        match res {
            Ok(_) => Ok(Created::Yes),
            // 412: the key is taken. 409: a concurrent conditional write is in flight.
            Err(e)
                if matches!(
                    e.code(),
                    Some("PreconditionFailed" | "ConditionalRequestConflict")
                ) || e
                    .raw_response()
                    .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412)) =>
            {
                Ok(Created::AlreadyExists)
            }
            Err(e) => Err(aws_error("PutObject", &e)),
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        get_object(&self.client, &self.bucket, key).await
    }

    fn uri(&self, key: &str) -> Option<String> {
        Some(format!("s3://{}/{key}", self.bucket))
    }

    async fn replace(&self, key: &str, body: Vec<u8>) -> Result<(), AwsError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(body.into())
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutObject", &e))
    }
}

#[cfg(feature = "role")]
pub fn iam_client(config: &SdkConfig) -> aws_sdk_iam::Client {
    aws_sdk_iam::Client::new(config)
}

#[cfg(feature = "key")]
pub fn kms_client(config: &SdkConfig) -> aws_sdk_kms::Client {
    aws_sdk_kms::Client::new(config)
}
