//! hub-exporter: every evidence record the guards write, as AWS Security Hub findings.
//!
//! Triggered by the evidence bucket's "Object Created" events through EventBridge (the
//! template's `SecurityHub` parameter), it reads the record, looks up the findings
//! Security Hub already holds for the same resource and door, and imports what
//! [`crossguard_engine::asff`] says: a finding per outside party, updated rather than
//! added again, resolved when the grant is removed or approved. A separate function so
//! that the guards' packages do not carry the Security Hub client.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, Compliance, ComplianceStatus,
    FindingProviderFields, FindingProviderSeverity, Recommendation, RecordState, Remediation,
    Resource, Severity, SeverityLabel, StringFilter, StringFilterComparison, Workflow,
    WorkflowStatus,
};
use crossguard_engine::asff::{self, AsffFinding, Prior, Product, Read, Subject};
use crossguard_engine::evidence;
use crossguard_guard::aws::aws_error;
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

/// Security Hub and S3 through the SDK.
pub struct AwsHub {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    pub hub: aws_sdk_securityhub::Client,
}

fn filter(value: &str, comparison: StringFilterComparison) -> StringFilter {
    StringFilter::builder()
        .value(value)
        .comparison(comparison)
        .build()
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
        let filters = AwsSecurityFindingFilters::builder()
            .product_arn(filter(product, StringFilterComparison::Equals))
            .resource_id(filter(resource, StringFilterComparison::Equals))
            .id(filter(prefix, StringFilterComparison::Prefix))
            .record_state(filter("ACTIVE", StringFilterComparison::Equals))
            .build();
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .hub
                .get_findings()
                .filters(filters.clone())
                .max_results(100)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("GetFindings", &e))?;
            // The filters again, here: an emulator (or a changed API) that ignores one
            // must not make another resource's finding look like this one's.
            out.extend(
                page.findings()
                    .iter()
                    .filter(|f| f.id().is_some_and(|id| id.starts_with(prefix)))
                    .filter(|f| f.product_arn() == Some(product))
                    .filter(|f| f.resources().iter().any(|r| r.id() == Some(resource)))
                    .filter(|f| f.record_state() != Some(&RecordState::Archived))
                    .filter_map(prior),
            );
            match page.next_token().filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t.to_string()),
                None => return Ok(out),
            }
        }
    }

    async fn import(&self, findings: Vec<AsffFinding>) -> Result<(), AwsError> {
        let out = self
            .hub
            .batch_import_findings()
            .set_findings(Some(findings.into_iter().map(to_sdk).collect()))
            .send()
            .await
            .map_err(|e| aws_error("BatchImportFindings", &e))?;
        // FailedCount is always in the answer: without it, nothing says the import took.
        if out.failed_count() != Some(0) || !out.failed_findings().is_empty() {
            let why: Vec<String> = out
                .failed_findings()
                .iter()
                .map(|f| {
                    format!(
                        "{}: {} {}",
                        f.id().unwrap_or("?"),
                        f.error_code().unwrap_or(""),
                        f.error_message().unwrap_or("")
                    )
                })
                .collect();
            return Err(AwsError::local(
                "BatchImportFindings",
                format!(
                    "{} finding(s) refused: {}",
                    out.failed_count()
                        .map_or_else(|| "an unknown number of".into(), |n| n.to_string()),
                    why.join("; ")
                ),
            ));
        }
        Ok(())
    }
}

/// What an update needs of a finding held; `None` without its id or `CreatedAt` (a
/// finding Security Hub would not have taken): the update then starts it afresh.
fn prior(f: &AwsSecurityFinding) -> Option<Prior> {
    Some(Prior {
        id: f.id()?.to_string(),
        created_at: f.created_at()?.to_string(),
        first_observed_at: f.first_observed_at().map(str::to_string),
        last_observed_at: f.last_observed_at().map(str::to_string),
        compliance: f
            .compliance()
            .and_then(Compliance::status)
            .map(|s| s.as_str().to_string()),
        workflow: f
            .workflow()
            .and_then(Workflow::status)
            .map(|s| s.as_str().to_string()),
        party: f
            .product_fields()
            .and_then(|p| p.get(asff::PARTY_FIELD))
            .cloned(),
    })
}

/// A finding in the SDK's shape.
pub fn to_sdk(f: AsffFinding) -> AwsSecurityFinding {
    let resources = f
        .resources
        .into_iter()
        .map(|r| {
            Resource::builder()
                .r#type(r.kind)
                .id(r.id)
                .partition(r.partition.as_str().into())
                .region(r.region)
                .build()
        })
        .collect();
    AwsSecurityFinding::builder()
        .schema_version(f.schema_version)
        .id(f.id)
        .product_arn(f.product_arn)
        .generator_id(f.generator_id)
        .aws_account_id(f.aws_account_id)
        .region(f.region)
        .set_types(Some(f.types.clone()))
        .created_at(f.created_at)
        .updated_at(f.updated_at)
        .first_observed_at(f.first_observed_at)
        .last_observed_at(f.last_observed_at)
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(f.severity))
                .build(),
        )
        // Where a provider updates severity and types after a person may have changed
        // the top-level ones.
        .finding_provider_fields(
            FindingProviderFields::builder()
                .severity(
                    FindingProviderSeverity::builder()
                        .label(SeverityLabel::from(f.severity))
                        .build(),
                )
                .set_types(Some(f.types))
                .build(),
        )
        .title(f.title)
        .description(f.description)
        .remediation(
            Remediation::builder()
                .recommendation(Recommendation::builder().text(f.remediation).build())
                .build(),
        )
        .set_product_fields(Some(f.product_fields.into_iter().collect()))
        .set_resources(Some(resources))
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(f.compliance.as_str()))
                .build(),
        )
        .workflow(
            Workflow::builder()
                .status(WorkflowStatus::from(f.workflow.as_str()))
                .build(),
        )
        .record_state(RecordState::from(f.record_state))
        .build()
}
