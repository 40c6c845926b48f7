//! The tamper guard: the engine's [`crossguard_engine::tamper`] check wired to AWS. It
//! claims, alerts and records like every guard (its records under `evidence/tamper/`),
//! and its only writes are the safe undos: `EnableRule`, `StartLogging`, `EnableKey` and
//! `CancelKeyDeletion`, all in its own account (a member account's forwarding rule is
//! alerted, never undone: the engine plans no undo for it).

use crate::handler::{GuardError, Handled, Ledger};
use crate::ports::{AlertSink, AwsError, EvidenceStore};
use crate::{aws, Config, ConfigError};
use crossguard_engine::alert::Outcome;
use crossguard_engine::event::{self, Record};
use crossguard_engine::tamper::{self, Deployment};
use crossguard_engine::{evidence, json, Action, Allowlist, Decision, Options, Verdict};
use serde_json::Value;
use std::future::Future;

/// Makes the call that undoes a tampering (`{"call": "EnableRule", "name": …}`).
pub trait Undo: Send + Sync {
    fn apply(&self, call: &Value) -> impl Future<Output = Result<(), AwsError>> + Send;
}

/// [`Undo`] through EventBridge and CloudTrail.
#[derive(Clone)]
pub struct AwsUndo {
    pub events: aws_sdk_eventbridge::Client,
    pub trails: aws_sdk_cloudtrail::Client,
    pub keys: aws_sdk_kms::Client,
}

impl AwsUndo {
    pub fn new(sdk: &aws_types::SdkConfig) -> AwsUndo {
        AwsUndo {
            events: aws_sdk_eventbridge::Client::new(sdk),
            trails: aws_sdk_cloudtrail::Client::new(sdk),
            keys: aws_sdk_kms::Client::new(sdk),
        }
    }

    async fn enable_key(&self, key: &str) -> Result<(), AwsError> {
        self.keys
            .enable_key()
            .key_id(key)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws::aws_error("EnableKey", &e))
    }
}

impl Undo for AwsUndo {
    async fn apply(&self, call: &Value) -> Result<(), AwsError> {
        let text = |k: &str| call.get(k).and_then(Value::as_str).map(str::to_string);
        let name = text("name").ok_or_else(|| AwsError::local("undo", "the undo names nothing"))?;
        match text("call").as_deref() {
            Some("EnableRule") => self
                .events
                .enable_rule()
                .name(name)
                .set_event_bus_name(text("event_bus"))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws::aws_error("EnableRule", &e)),
            Some("StartLogging") => self
                .trails
                .start_logging()
                .name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| aws::aws_error("StartLogging", &e)),
            Some("EnableKey") => self.enable_key(&name).await,
            Some("CancelKeyDeletion") => {
                self.keys
                    .cancel_key_deletion()
                    .key_id(&name)
                    .send()
                    .await
                    .map_err(|e| aws::aws_error("CancelKeyDeletion", &e))?;
                self.enable_key(&name).await
            }
            other => Err(AwsError::local(
                "undo",
                format!("no undo call {other:?} is known"),
            )),
        }
    }
}

pub struct TamperGuard<U, A, E> {
    pub undo: U,
    pub alerts: A,
    pub evidence: E,
    pub allowlist: Allowlist,
    pub deployment: Deployment,
}

impl<U: Undo, A: AlertSink, E: EvidenceStore> TamperGuard<U, A, E> {
    /// Handle one Lambda payload: each record checked against the deployment.
    pub async fn handle(
        &self,
        payload: &json::Checked,
        request_id: &str,
    ) -> Result<Vec<Handled>, GuardError> {
        let records = event::records_checked(payload)
            .map_err(|e| GuardError::MalformedEvent(e.to_string()))?;
        let mut out = Vec::with_capacity(records.len());
        for r in records {
            let decision = match r.record {
                Record::CloudTrail(rec) => tamper::decide(
                    rec,
                    r.duplicate.as_ref(),
                    &self.deployment,
                    &self.allowlist,
                    Options::default(),
                )
                .unwrap_or_else(|| Decision {
                    event: Some(event::summarize(rec)),
                    ..Decision::ignored(None, "not a call on the guard's own parts")
                }),
                Record::OtherDetailType { id, detail_type } => Decision {
                    event: Some(crossguard_engine::EventSummary {
                        id,
                        ..Default::default()
                    }),
                    ..Decision::ignored(None, format!("EventBridge detail-type {detail_type:?}"))
                },
            };
            let handled = self.one(decision, request_id).await?;
            tracing::info!(
                event_id = %handled.event_id,
                event_name = handled.event_name.as_deref().unwrap_or(""),
                verdict = ?handled.verdict,
                outcome = %handled.outcome,
                "tamper check"
            );
            out.push(handled);
        }
        Ok(out)
    }

    /// [`TamperGuard::handle`] for a payload built as a value (tests, tools).
    pub async fn handle_value(
        &self,
        payload: &Value,
        request_id: &str,
    ) -> Result<Vec<Handled>, GuardError> {
        self.handle(&crate::checked_payload(payload)?, request_id)
            .await
    }

    async fn one(&self, decision: Decision, request_id: &str) -> Result<Handled, GuardError> {
        let summary = decision.event.clone().unwrap_or_default();
        let id = summary.id.clone().unwrap_or_default();
        let key = evidence::tamper_key(&id).map_err(GuardError::NoEvidenceKey)?;
        let ledger = Ledger {
            alerts: &self.alerts,
            evidence: &self.evidence,
        };
        ledger
            .settle(key, &id, summary.name, request_id, async {
                let outcome = self.act(&decision).await;
                (decision, crate::handler::Before::default(), outcome)
            })
            .await
    }

    /// Undo what the decision plans, or only alert; a tampered guard is reported even
    /// when nothing is to be done (dry-run), an unreadable call too.
    async fn act(&self, decision: &Decision) -> Option<Outcome> {
        match (decision.action, decision.verdict) {
            (Action::Remediate, _) => {
                let call = decision.remediation.as_ref().and_then(|p| p.undo.as_ref());
                Some(match call {
                    Some(call) => match self.undo.apply(call).await {
                        Ok(()) => Outcome::Remediated,
                        Err(e) => Outcome::RemediationFailed(e.to_string()),
                    },
                    None => Outcome::Alerted,
                })
            }
            (Action::Alert, _) | (_, Verdict::Error) => Some(Outcome::Alerted),
            _ => None,
        }
    }
}

/// The deployment's parts from `GUARD_DEPLOYMENT` (JSON, written by the template).
pub fn deployment_from_env(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Deployment, ConfigError> {
    let text = var("GUARD_DEPLOYMENT")
        .filter(|v| !v.trim().is_empty())
        .ok_or(ConfigError::Missing(
            "GUARD_DEPLOYMENT",
            "the guard's own rules, functions, roles, topic, trail and evidence bucket, and the member accounts' forwarding rules (JSON)",
        ))?;
    Deployment::from_json(&text).map_err(ConfigError::Deployment)
}

/// A tamper guard wired to AWS.
pub async fn connect<U: Undo>(
    sdk: &aws_types::SdkConfig,
    config: &Config,
    deployment: Deployment,
    undo: U,
) -> Result<TamperGuard<U, aws::SnsTopic, aws::S3Evidence>, ConfigError> {
    let s3 = aws::s3_client(sdk);
    let allowlist = crate::load_allowlist(config, &s3).await?;
    Ok(TamperGuard {
        undo,
        alerts: aws::SnsTopic {
            client: aws_sdk_sns::Client::new(sdk),
            topic_arn: config.alert_topic_arn.clone(),
        },
        evidence: aws::S3Evidence {
            client: s3,
            bucket: config.evidence_bucket.clone(),
        },
        allowlist,
        deployment,
    })
}

/// The tamper-guard Lambda's entry point.
pub async fn run() -> Result<(), lambda_runtime::Error> {
    use std::sync::Arc;
    let (config, sdk, deployment) = crate::start(|var| deployment_from_env(var))?;
    let guard = crate::Lazy::new(move || {
        let (sdk, config, deployment) = (sdk.clone(), config.clone(), deployment.clone());
        async move {
            let undo = AwsUndo::new(&sdk);
            let guard = connect(&sdk, &config, deployment, undo).await?;
            tracing::info!(
                rules = guard.deployment.rules.len(),
                functions = guard.deployment.functions.len(),
                roles = guard.deployment.roles.len(),
                member_rules = guard.deployment.member_rules.len(),
                "ready"
            );
            Ok(guard)
        }
    });
    crate::serve(move |payload, request_id| {
        let guard = Arc::clone(&guard);
        async move { guard.get().await?.handle(&payload, &request_id).await }
    })
    .await
}
