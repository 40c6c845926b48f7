//! The AWS calls a guard makes, as three small traits: the handler is written against
//! these, the SDK-backed implementations are in [`crate::aws`].

use crossguard_engine::alert::Alert;
use crossguard_engine::{CarriedPolicy, PolicyDocument, Resource, ResourceKind};
use serde_json::Value;
use std::fmt;
use std::future::Future;

/// A failed AWS call: which operation, the service's error code when it gave one, and
/// what it said. Carries no credentials or request bodies, so it is safe to log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AwsError {
    pub operation: &'static str,
    pub code: Option<String>,
    pub message: String,
}

impl AwsError {
    /// An error raised here rather than by AWS: no service code.
    pub fn local(operation: &'static str, message: impl Into<String>) -> AwsError {
        AwsError {
            operation,
            code: None,
            message: message.into(),
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} failed: {code}: {}", self.operation, self.message),
            None => write!(f, "{} failed: {}", self.operation, self.message),
        }
    }
}

/// A resource's policy as it is now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Live {
    /// The document's text as the service returned it (IAM's is URL-encoded).
    Policy(String),
    /// The resource exists and has no policy (a bucket without a bucket policy).
    NoPolicy,
    /// The resource no longer exists.
    Gone,
    /// A bucket ACL, in `GetBucketAcl`'s JSON form (`Owner`, `Grants`).
    Acl(Value),
    /// Block Public Access settings (S3's JSON names; of a bucket, or of the account for
    /// `bucket/*`).
    Settings(Value),
}

impl Live {
    /// The policy as the engine takes it, and as the evidence keeps it (the document's
    /// JSON, or the text as read when it cannot be parsed). The guard and `scan` both
    /// decide a live policy through this.
    pub fn into_carried(self) -> (CarriedPolicy, Option<Value>) {
        match self {
            Live::Policy(text) => match PolicyDocument::parse(&text)
                .and_then(|doc| doc.to_json().map(|before| (doc, before)))
            {
                Ok((doc, before)) => (CarriedPolicy::Document(doc), Some(before)),
                Err(e) => (
                    CarriedPolicy::Unreadable(format!("the live policy: {e}")),
                    Some(Value::String(text)),
                ),
            },
            Live::NoPolicy => (
                CarriedPolicy::None("no policy now: nothing is shared"),
                None,
            ),
            Live::Gone => (
                CarriedPolicy::None("the resource no longer exists: nothing is shared"),
                None,
            ),
            Live::Settings(v) => match crossguard_engine::bpa::PublicAccessBlock::from_json(&v) {
                Ok(settings) => (
                    CarriedPolicy::PublicAccessBlock(crossguard_engine::bpa::Change {
                        settings,
                        exposed: None,
                    }),
                    Some(v),
                ),
                Err(e) => (
                    CarriedPolicy::Unreadable(format!("the live settings: {e}")),
                    Some(v),
                ),
            },
            Live::Acl(v) => match crossguard_engine::acl::Acl::from_json(&v) {
                Ok(acl) => (CarriedPolicy::Acl(acl), Some(v)),
                Err(e) => (
                    CarriedPolicy::Unreadable(format!("the live ACL: {e}")),
                    Some(v),
                ),
            },
        }
    }
}

/// Reads and writes one kind of resource policy.
pub trait PolicyStore: Send + Sync {
    fn kind(&self) -> ResourceKind;
    fn read(&self, resource: &Resource) -> impl Future<Output = Result<Live, AwsError>> + Send;
    fn write(
        &self,
        resource: &Resource,
        policy: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Remove the policy altogether (S3 only: roles and keys always have one).
    fn delete(&self, resource: &Resource) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Remove exactly these statements, by `Sid` (the kinds whose policy is edited a
    /// statement at a time: Lambda, EventBridge). Whole-document kinds refuse.
    fn remove_statements(
        &self,
        resource: &Resource,
        sids: &[String],
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        let _ = (resource, sids);
        async {
            Err(AwsError::local(
                "RemovePermission",
                "this kind's policy is written whole, not a statement at a time",
            ))
        }
    }
    /// The bucket ACL (buckets only): [`Live::Acl`], or [`Live::Gone`].
    fn read_acl(&self, resource: &Resource) -> impl Future<Output = Result<Live, AwsError>> + Send {
        let _ = resource;
        async { Err(AwsError::local("GetBucketAcl", "only buckets have ACLs")) }
    }
    /// Put the bucket ACL `acl` (`GetBucketAcl`'s JSON form) in place (buckets only).
    fn write_acl(
        &self,
        resource: &Resource,
        acl: &Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        let _ = (resource, acl);
        async { Err(AwsError::local("PutBucketAcl", "only buckets have ACLs")) }
    }
    /// Block Public Access settings (buckets; `bucket/*`: the account's), as
    /// [`Live::Settings`], or [`Live::Gone`].
    fn read_public_access_block(
        &self,
        resource: &Resource,
    ) -> impl Future<Output = Result<Live, AwsError>> + Send {
        let _ = resource;
        async {
            Err(AwsError::local(
                "GetPublicAccessBlock",
                "only buckets have Block Public Access",
            ))
        }
    }
    /// Put Block Public Access settings (S3's JSON names) in place.
    fn write_public_access_block(
        &self,
        resource: &Resource,
        settings: &Value,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        let _ = (resource, settings);
        async {
            Err(AwsError::local(
                "PutPublicAccessBlock",
                "only buckets have Block Public Access",
            ))
        }
    }
    /// Revoke the KMS grant `grant_id` (keys only); not found is an error, not done.
    fn revoke_grant(
        &self,
        resource: &Resource,
        grant_id: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        let _ = (resource, grant_id);
        async { Err(AwsError::local("RevokeGrant", "only keys have grants")) }
    }
}

/// Publishes alerts; returns the message id.
pub trait AlertSink: Send + Sync {
    fn publish(&self, alert: &Alert) -> impl Future<Output = Result<String, AwsError>> + Send;
}

/// Whether a conditional create found the key free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Yes,
    AlreadyExists,
}

/// Evidence objects, one per key.
pub trait EvidenceStore: Send + Sync {
    /// Write only if no object has the key (S3 `If-None-Match: *`).
    fn create(
        &self,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<Created, AwsError>> + Send;
    fn read(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, AwsError>> + Send;
    fn replace(
        &self,
        key: &str,
        body: Vec<u8>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Where a person finds the object (`s3://BUCKET/KEY`), for alerts' next steps.
    fn uri(&self, key: &str) -> Option<String> {
        let _ = key;
        None
    }
}
