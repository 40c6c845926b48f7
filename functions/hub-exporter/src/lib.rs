//! hub-exporter: every evidence record the guards write, as AWS Security Hub findings.
//!
//! Triggered by the evidence bucket's "Object Created" events through EventBridge (the
//! template's `SecurityHub` parameter), it reads the record, looks up the findings
//! Security Hub already holds for the same resource and door, and imports what
//! [`crossguard_engine::asff`] says: a finding per outside party, updated rather than
//! added again, resolved when the grant is removed or approved. A separate function so
//! that the guards' packages do not carry the Security Hub client.

use crossguard_engine::asff::{self, AsffFinding, Prior, Product, Read, Subject};

pub mod wire;
use crossguard_engine::evidence;
use crossguard_guard::AwsError;
use serde::Serialize;
use serde_json::Value;
use std::future::Future;

/// Where the exporter reads and writes: the evidence bucket's objects and Security Hub.
pub trait Hub {
    /// An object of the evidence bucket (`None`: no such key).
    fn read(&self, key: &str) -> impl Future<Output = Result<Option<Vec<u8>>, AwsError>> + Send;
    /// The active findings of `product` whose id starts with `prefix`, about `resource`.
    fn priors(
        &self,
        product: &str,
        resource: &str,
        prefix: &str,
    ) -> impl Future<Output = Result<Vec<Prior>, AwsError>> + Send;
    /// Import `findings` (at most [`BATCH`]); an error names each refused finding.
    fn import(
        &self,
        findings: Vec<AsffFinding>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// BatchImportFindings takes at most this many findings per call.
pub const BATCH: usize = 100;

/// GetFindings pages of 100 read for one resource at most: a resource has a finding per
/// party and door, and an answer that pages on past this is not believed.
pub const MAX_PAGES: usize = 100;

/// Why an object could not be exported. Each fails the invocation: Lambda retries it,
/// then its dead-letter queue keeps it; nothing is skipped as if exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("not an S3 \"Object Created\" event of the evidence bucket: {0}")]
    NotOurs(String),
    #[error("{0}")]
    Record(#[from] asff::AsffError),
    #[error("{0} (the record stays in the evidence bucket; the retry exports it)")]
    Aws(#[from] AwsError),
    #[error("evidence object {0} does not exist")]
    Gone(String),
}

impl ExportError {
    /// Lambda's `errorType`.
    pub fn error_type(&self) -> &'static str {
        match self {
            ExportError::NotOurs(_) => "crossguard.MalformedEvent",
            ExportError::Record(_) => "crossguard.Record",
            ExportError::Aws(_) => "crossguard.Aws",
            ExportError::Gone(_) => "crossguard.Gone",
        }
    }
}

/// What one invocation did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exported {
    /// The evidence object.
    pub key: String,
    /// The ids of the findings imported.
    pub imported: Vec<String>,
    /// Why nothing was imported, when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// The exporter: the evidence bucket it reads, the Security Hub product it imports to.
pub struct Exporter<H> {
    pub hub: H,
    pub bucket: String,
    pub product: Product,
}

/// Keys the guards write records under (`evidence.rs`): nothing else in the bucket is
/// read, and a key with other characters is refused rather than guessed at.
fn evidence_key(key: &str) -> Result<Option<&str>, ExportError> {
    if !key.starts_with("evidence/") {
        return Ok(None);
    }
    let safe = key.len() <= 1024
        && !key.contains("..")
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    if !safe {
        return Err(ExportError::NotOurs(format!("key {key:?}")));
    }
    Ok(Some(key))
}

impl<H: Hub> Exporter<H> {
    /// One EventBridge event: `aws.s3` "Object Created" in the evidence bucket.
    pub async fn handle(&self, event: &Value, now: &str) -> Result<Exported, ExportError> {
        let at = |p: &str| event.pointer(p).and_then(Value::as_str);
        if at("/source") != Some("aws.s3") || at("/detail-type") != Some("Object Created") {
            return Err(ExportError::NotOurs(format!(
                "source {:?}, detail-type {:?}",
                at("/source"),
                at("/detail-type")
            )));
        }
        let bucket = at("/detail/bucket/name").unwrap_or("");
        if bucket != self.bucket {
            return Err(ExportError::NotOurs(format!(
                "bucket {bucket:?}, not the evidence bucket {}",
                self.bucket
            )));
        }
        let key = at("/detail/object/key")
            .ok_or_else(|| ExportError::NotOurs("no detail.object.key".into()))?;
        let skipped = |why: String| Exported {
            key: key.to_string(),
            imported: Vec::new(),
            skipped: Some(why),
        };
        let Some(key) = evidence_key(key)? else {
            return Ok(skipped("not under evidence/".into()));
        };
        let bytes = self
            .hub
            .read(key)
            .await?
            .ok_or_else(|| ExportError::Gone(key.to_string()))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| asff::AsffError::Unreadable("not UTF-8 text".into()))?;
        let subject = match Subject::read(&text)? {
            Read::Subject(s) => s,
            Read::Skip(why) => return Ok(skipped(why)),
        };
        // A record is where the guards put it: under its own event's key. One written
        // elsewhere under evidence/ is not taken for the event it names.
        let id = subject.event_id();
        let own = [evidence::key(id), evidence::tamper_key(id)];
        if !own.iter().any(|k| k.as_deref() == Ok(key)) {
            return Err(ExportError::NotOurs(format!(
                "{key} holds the record of event {id}, which the guards write to evidence/{id}.json"
            )));
        }
        let product_arn = self.product.arn();
        let prefix = subject.id_prefix();
        let priors = self
            .hub
            .priors(&product_arn, subject.resource_id(), &prefix)
            .await?;
        let uri = format!("s3://{}/{key}", self.bucket);
        let findings = subject.findings(&self.product, &priors, now, Some(&uri));
        let imported = findings.iter().map(|f| f.id.clone()).collect();
        let mut findings = findings.into_iter().peekable();
        while findings.peek().is_some() {
            self.hub
                .import(findings.by_ref().take(BATCH).collect())
                .await?;
        }
        Ok(Exported {
            key: key.to_string(),
            imported,
            skipped: None,
        })
    }
}

/// The importing account: `ACCOUNT_ID` when set, else the account of the ARN Lambda
/// invoked the function by. No STS call: nothing crosses the network to learn it, and the
/// package does not carry an STS client for it.
pub fn own_account(configured: Option<String>, invoked_arn: &str) -> Result<String, String> {
    if let Some(a) = configured {
        return Ok(a);
    }
    crossguard_engine::principal::parse_arn(invoked_arn)
        .filter(|arn| arn.service == "lambda")
        .map(|arn| arn.account)
        .filter(|a| crossguard_engine::principal::is_account_id(a))
        .map(str::to_string)
        .ok_or_else(|| {
            format!("the account is unknown: ACCOUNT_ID is unset and the invoked ARN {invoked_arn:?} names none")
        })
}

/// S3 through the SDK, Security Hub through [`wire`].
pub struct AwsHub {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub hub: wire::SecurityHub,
}

impl Hub for AwsHub {
    async fn read(&self, key: &str) -> Result<Option<Vec<u8>>, AwsError> {
        crossguard_guard::aws::get_object(&self.s3, &self.bucket, key).await
    }

    async fn priors(
        &self,
        product: &str,
        resource: &str,
        prefix: &str,
    ) -> Result<Vec<Prior>, AwsError> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        let mut seen = std::collections::HashSet::new();
        for _ in 0..MAX_PAGES {
            let request = wire::get_findings_request(product, resource, prefix, token.as_deref());
            let page = self.hub.get_findings(request).await?;
            let (priors, next) = wire::get_findings_page(&page, product, resource, prefix)
                .map_err(|why| AwsError::local("GetFindings", format!("the answer: {why}")))?;
            out.extend(priors);
            match next {
                // A token handed back again would page for ever.
                Some(t) if !seen.insert(t.clone()) => {
                    return Err(AwsError::local(
                        "GetFindings",
                        format!("NextToken {t:?} came back again: the listing does not end"),
                    ))
                }
                Some(t) => token = Some(t),
                None => return Ok(out),
            }
        }
        Err(AwsError::local(
            "GetFindings",
            format!("more than {MAX_PAGES} pages of findings for one resource: not read further"),
        ))
    }

    async fn import(&self, findings: Vec<AsffFinding>) -> Result<(), AwsError> {
        let out = self
            .hub
            .import_findings(wire::import_request(&findings))
            .await?;
        wire::import_answer(&out, findings.len())
    }
}

#[cfg(test)]
mod tests {
    use super::own_account;

    #[test]
    fn the_account_is_configured_or_the_invoked_functions() {
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:crossguard-hub-exporter";
        assert_eq!(own_account(None, arn).unwrap(), "123456789012");
        assert_eq!(
            own_account(Some("210987654321".into()), arn).unwrap(),
            "210987654321"
        );
        // An alias or version ARN names the same account.
        assert_eq!(
            own_account(None, &format!("{arn}:live")).unwrap(),
            "123456789012"
        );
        for bad in [
            "",
            "crossguard-hub-exporter",
            "arn:aws:lambda:eu-west-1::function:x",
            "arn:aws:lambda:eu-west-1:12345678901x:function:x",
            "arn:aws:iam::123456789012:role/x",
        ] {
            let e = own_account(None, bad).unwrap_err();
            assert!(e.contains("ACCOUNT_ID is unset"), "{bad}: {e}");
        }
    }
}
