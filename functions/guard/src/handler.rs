//! One invocation: claim the event's evidence key, decide on the live policy, act by
//! mode, alert, and write the evidence record (SPEC §3, §4).
//!
//! Exactly-once effects over at-least-once delivery: the evidence key is claimed with a
//! conditional write before anything is done, so a second delivery finds it and does
//! nothing. A claim left by an invocation that died is taken over by Lambda's retry (same
//! request id) or, after [`LEASE_SECS`], by any delivery.

use crate::ports::{AlertSink, AwsError, Created, EvidenceStore, Live, PolicyStore};
use crossguard_engine::alert::{self, Outcome};
use crossguard_engine::bpa::PublicAccessBlock;
use crossguard_engine::evidence::{self, Delivery, DeliveryStatus};
use crossguard_engine::kinds::{self, Door, Edited};
use crossguard_engine::{
    decide_carried, decide_parsed, decide_with_policy, event, json, parse_checked_input, Action,
    Allowlist, CarriedPolicy, Decision, EventSummary, Mode, Options, ParsedEvent, PlanKind,
    Resource, Scope, Verdict,
};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

/// Schema of the placeholder written when an event is claimed.
pub const CLAIM_SCHEMA: &str = "crossguard.claim/1";

/// After this long a claim is taken to be from a dead invocation (Lambda's longest
/// timeout is 15 minutes).
pub const LEASE_SECS: u64 = 900;

/// Why an invocation fails: Lambda retries it, then hands the event to the dead-letter
/// queue, so nothing is lost. Each variant is reported to Lambda as its own `errorType`
/// ([`GuardError::error_type`]), so alarms and retries can be routed by cause.
#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    /// The payload is not an event crossguard can read.
    #[error("malformed event, nothing recorded or done: {0}")]
    MalformedEvent(String),
    /// The event has no id safe to key its evidence by.
    #[error("{0}; nothing recorded or done")]
    NoEvidenceKey(evidence::EvidenceError),
    /// The evidence record could not be built or encoded.
    #[error("{0}")]
    Record(String),
    /// The event's evidence key could not be claimed.
    #[error("event {id} could not be claimed ({source}); nothing done")]
    Unclaimed { id: String, source: AwsError },
    /// The evidence record could not be written (or updated after a resend).
    #[error("{what} ({source}){then}")]
    EvidenceStore {
        what: String,
        source: AwsError,
        then: &'static str,
    },
    /// SNS did not take the alert; it is kept in the evidence record.
    #[error("{0}")]
    AlertNotSent(String),
    /// The guard could not be built (the allowlist unreadable or faulty, the account
    /// unknown): nothing decided, recorded or done; the event is retried.
    #[error("the guard could not start, nothing decided or done: {0}")]
    Configuration(String),
}

impl GuardError {
    /// The `errorType` Lambda reports for this failure.
    pub fn error_type(&self) -> &'static str {
        match self {
            GuardError::MalformedEvent(_) => "crossguard.MalformedEvent",
            GuardError::NoEvidenceKey(_) => "crossguard.NoEvidenceKey",
            GuardError::Record(_) => "crossguard.Record",
            GuardError::Unclaimed { .. } => "crossguard.Unclaimed",
            GuardError::EvidenceStore { .. } => "crossguard.EvidenceStore",
            GuardError::AlertNotSent(_) => "crossguard.AlertNotSent",
            GuardError::Configuration(_) => "crossguard.Configuration",
        }
    }
}

impl From<GuardError> for lambda_runtime::Diagnostic {
    fn from(e: GuardError) -> Self {
        lambda_runtime::Diagnostic {
            error_type: e.error_type().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// What one record came to, returned by the function and logged.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Handled {
    pub event_id: String,
    pub event_name: Option<String>,
    pub verdict: Verdict,
    pub action: Action,
    /// `none`, `alerted`, `remediated`, `remediation_failed`; `duplicate` when an earlier
    /// delivery already handled the event, `in_flight` while another one is handling it.
    pub outcome: String,
    pub alert: Option<String>,
    pub evidence: String,
}

pub struct Guard<P, A, E> {
    pub policies: P,
    pub alerts: A,
    pub evidence: E,
    pub allowlist: Allowlist,
}

enum Claim {
    Ours,
    Done(Value),
    InFlight,
}

/// Now: seconds since the epoch, and as RFC 3339 text (what records and findings write).
pub fn now() -> (u64, String) {
    let t = SystemTime::now();
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let text = aws_sdk_s3::primitives::DateTime::from(t)
        .fmt(aws_sdk_s3::primitives::DateTimeFormat::DateTime)
        .unwrap_or_default();
    (secs, text)
}

impl<P: PolicyStore, A: AlertSink, E: EvidenceStore> Guard<P, A, E> {
    /// Handle one Lambda payload (an EventBridge event; a bare record or a `Records`
    /// file also works).
    pub async fn handle(
        &self,
        payload: &json::Checked,
        request_id: &str,
    ) -> Result<Vec<Handled>, GuardError> {
        let records = event::records_checked(payload)
            .map_err(|e| GuardError::MalformedEvent(e.to_string()))?;
        let mut out = Vec::with_capacity(records.len());
        for record in records {
            let handled = self.one(parse_checked_input(record), request_id).await?;
            tracing::info!(
                event_id = %handled.event_id,
                event_name = handled.event_name.as_deref().unwrap_or(""),
                verdict = ?handled.verdict,
                action = ?handled.action,
                outcome = %handled.outcome,
                alert = handled.alert.as_deref().unwrap_or(""),
                evidence = %handled.evidence,
                "handled"
            );
            out.push(handled);
        }
        Ok(out)
    }

    /// [`Guard::handle`] for a payload already built as a value (tests, tools): a value
    /// has no duplicate keys left to find, so it is read back from its text.
    pub async fn handle_value(
        &self,
        payload: &Value,
        request_id: &str,
    ) -> Result<Vec<Handled>, GuardError> {
        self.handle(&crate::checked_payload(payload)?, request_id)
            .await
    }

    async fn one(&self, parsed: ParsedEvent, request_id: &str) -> Result<Handled, GuardError> {
        let summary = parsed.summary();
        let (id, name) = (summary.id.clone().unwrap_or_default(), summary.name.clone());
        let key = evidence::key(&id).map_err(GuardError::NoEvidenceKey)?;
        let ledger = Ledger {
            alerts: &self.alerts,
            evidence: &self.evidence,
        };
        ledger
            .settle(key, &id, name, request_id, async {
                let (decision, before) = self.decide(parsed).await;
                let outcome = self.act(&decision).await;
                (decision, before, outcome)
            })
            .await
    }
}

/// The policy a decision was made on, for its evidence record.
#[derive(Debug, Default)]
pub(crate) struct Before {
    pub policy: Option<Value>,
    /// Read live, the whole door (policy or ACL): a party it does not let in is gone.
    pub live: bool,
}

impl Before {
    /// As the event's record carries it: part of the door at most.
    fn record(policy: Option<Value>) -> Before {
        Before {
            policy,
            live: false,
        }
    }
}

/// The door the event's call opened (the registry's): what is read live for it.
fn door_of(summary: &EventSummary) -> Option<Door> {
    kinds::door(summary.source.as_deref()?, summary.name.as_deref()?)
}

/// What every guard does around its decision: claim the event's evidence key (or find
/// it handled), then alert and write the evidence record.
pub(crate) struct Ledger<'a, A, E> {
    pub alerts: &'a A,
    pub evidence: &'a E,
}

impl<A: AlertSink, E: EvidenceStore> Ledger<'_, A, E> {
    /// One event, whole: claim `key`; unless another delivery has it, run `work` (decide
    /// and act: the decision, the policy before, the outcome), then alert and record.
    /// What the invocation came to.
    pub async fn settle(
        &self,
        key: String,
        id: &str,
        event_name: Option<String>,
        request_id: &str,
        work: impl Future<Output = (Decision, Before, Option<Outcome>)>,
    ) -> Result<Handled, GuardError> {
        let handled = |verdict, action, outcome: &str, alert: Option<String>| Handled {
            event_id: id.to_string(),
            event_name: event_name.clone(),
            verdict,
            action,
            outcome: outcome.to_string(),
            alert,
            evidence: key.clone(),
        };
        if let Some((outcome, alert)) = self.begin(&key, id, request_id).await? {
            return Ok(handled(Verdict::Ignored, Action::None, outcome, alert));
        }
        // A future does nothing until awaited: nothing is decided or done unclaimed.
        let (decision, before, outcome) = work.await;
        let (outcome, alert) = self
            .finish(&key, id, &decision, before, outcome.as_ref())
            .await?;
        Ok(handled(decision.verdict, decision.action, &outcome, alert))
    }

    /// Claim `key` for this event: `None` when it is ours to decide; otherwise what the
    /// invocation comes to (`duplicate`, with a failed alert resent; `in_flight`).
    async fn begin(
        &self,
        key: &str,
        id: &str,
        request_id: &str,
    ) -> Result<Option<(&'static str, Option<String>)>, GuardError> {
        Ok(match self.claim(key, id, request_id).await? {
            Claim::Ours => None,
            Claim::InFlight => Some(("in_flight", None)),
            Claim::Done(record) => {
                Some(("duplicate", self.resend_failed_alert(key, record).await?))
            }
        })
    }

    /// Alert (when the outcome says to) and write the evidence record; the outcome as
    /// recorded and the alert's delivery status.
    async fn finish(
        &self,
        key: &str,
        id: &str,
        decision: &Decision,
        before: Before,
        outcome: Option<&Outcome>,
    ) -> Result<(String, Option<String>), GuardError> {
        let delivery = match outcome.and_then(|o| alert::render(decision, o).map(|a| (a, o))) {
            Some((mut a, o)) => {
                let at = self.evidence.uri(key);
                a.structured = alert::protocols::structured(&a, decision, o, at.as_deref());
                Some(Delivery::new(
                    &a,
                    self.alerts.publish(&a).await.map_err(|e| e.to_string()),
                ))
            }
            None => None,
        };
        let (_, recorded_at) = now();
        let mut record = evidence::record(decision, before.policy, outcome, &recorded_at)
            .map_err(|e| GuardError::Record(e.to_string()))?;
        record.live = before.live;
        record.alert = delivery.clone();
        let body = serde_json::to_vec(&record).map_err(|e| {
            GuardError::Record(format!("evidence for {id} could not be encoded: {e}"))
        })?;
        self.evidence
            .replace(key, body)
            .await
            .map_err(|source| GuardError::EvidenceStore {
                what: format!("evidence for event {id} was not written"),
                source,
                then: "; the retry will take the event over",
            })?;
        if let Some(Delivery {
            status,
            error: Some(err),
            ..
        }) = &delivery
        {
            if *status == DeliveryStatus::Failed {
                return Err(GuardError::AlertNotSent(format!(
                    "alert for event {id} was not sent ({err}); it is kept in {key} and the next delivery sends it"
                )));
            }
        }
        Ok((
            record.outcome.as_str().to_string(),
            delivery.map(|d| d.status.as_str().to_string()),
        ))
    }

    /// Claim the event's evidence key, or learn who has it.
    async fn claim(&self, key: &str, id: &str, request_id: &str) -> Result<Claim, GuardError> {
        let unrecorded = |source: AwsError| GuardError::Unclaimed {
            id: id.to_string(),
            source,
        };
        let (secs, at) = now();
        let placeholder = json!({
            "schema": CLAIM_SCHEMA,
            "event_id": id,
            "request_id": request_id,
            "claimed_at": at,
            "claimed_at_epoch": secs,
        });
        let body = placeholder.to_string().into_bytes();
        if self
            .evidence
            .create(key, body.clone())
            .await
            .map_err(unrecorded)?
            == Created::Yes
        {
            return Ok(Claim::Ours);
        }
        let Some(existing) = self.evidence.read(key).await.map_err(unrecorded)? else {
            // Claimed and gone again (deleted by hand): claim afresh.
            return match self.evidence.create(key, body).await.map_err(unrecorded)? {
                Created::Yes => Ok(Claim::Ours),
                Created::AlreadyExists => Ok(Claim::InFlight),
            };
        };
        // Only a finished record proves the event was handled. Anything else under the key
        // (unreadable, another schema: written by hand or by someone else) proves nothing:
        // the event is taken over and decided, never passed as done. The bucket keeps
        // every version, so what was there is not lost.
        let existing: Value = match serde_json::from_slice(&existing) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(event_id = %id, error = %e, "evidence key holds no JSON: taken over");
                return Ok(Claim::Ours);
            }
        };
        match existing.get("schema").and_then(Value::as_str) {
            Some(evidence::SCHEMA) => return Ok(Claim::Done(existing)),
            Some(CLAIM_SCHEMA) => {}
            other => {
                tracing::warn!(event_id = %id, schema = ?other, "evidence key holds no crossguard record: taken over");
                return Ok(Claim::Ours);
            }
        }
        let same_request = existing.get("request_id").and_then(Value::as_str) == Some(request_id);
        let stale = existing
            .get("claimed_at_epoch")
            .and_then(Value::as_u64)
            .is_none_or(|t| secs.saturating_sub(t) > LEASE_SECS);
        if same_request || stale {
            Ok(Claim::Ours)
        } else {
            Ok(Claim::InFlight)
        }
    }

    /// A record whose alert did not go out: send it now and mark it sent.
    async fn resend_failed_alert(
        &self,
        key: &str,
        mut record: Value,
    ) -> Result<Option<String>, GuardError> {
        let Some(mut delivery) = record
            .get("alert")
            .and_then(|a| serde_json::from_value::<Delivery>(a.clone()).ok())
        else {
            return Ok(None);
        };
        if delivery.status != DeliveryStatus::Failed {
            return Ok(None);
        }
        let alert = alert::Alert {
            subject: delivery.subject.clone(),
            body: delivery.body.clone(),
            attributes: delivery
                .attributes
                .iter()
                .filter_map(|(k, v)| {
                    ["severity", "account", "resource_kind"]
                        .into_iter()
                        .find(|n| n == k)
                        .map(|n| (n, v.clone()))
                })
                .collect(),
            structured: delivery.structured.clone(),
        };
        let id = self.alerts.publish(&alert).await.map_err(|e| {
            GuardError::AlertNotSent(format!("alert kept in {key} still not sent: {e}"))
        })?;
        delivery.status = DeliveryStatus::Sent;
        delivery.message_id = Some(id);
        delivery.error = None;
        record["alert"] =
            serde_json::to_value(&delivery).map_err(|e| GuardError::Record(e.to_string()))?;
        let body = serde_json::to_vec(&record).map_err(|e| GuardError::Record(e.to_string()))?;
        self.evidence
            .replace(key, body)
            .await
            .map_err(|source| GuardError::EvidenceStore {
                what: format!("alert resent but {key} not updated"),
                source,
                then: "",
            })?;
        Ok(Some(delivery.status.as_str().to_string()))
    }
}

impl<P: PolicyStore, A: AlertSink, E: EvidenceStore> Guard<P, A, E> {
    /// The decision on the live policy, and that policy (for the evidence).
    async fn decide(&self, parsed: ParsedEvent) -> (Decision, Before) {
        let al = &self.allowlist;
        let opts = Options::default();
        let ParsedEvent::Guarded {
            summary,
            resource,
            policy,
        } = parsed
        else {
            return (decide_parsed(al, parsed, opts), Before::default());
        };
        if resource.kind != self.policies.kind() {
            let reason = format!(
                "{} is a {} policy change: this function guards {} policies",
                summary.name.clone().unwrap_or_default(),
                resource.kind,
                self.policies.kind()
            );
            let d = Decision {
                event: Some(summary),
                ..Decision::ignored(Some(resource), reason)
            };
            return (d, Before::default());
        }
        if al
            .ignores_actor(&summary.actor_arns_in(&resource.account))
            .is_some()
        {
            return (
                decide_with_policy(al, summary, resource, policy, opts),
                Before::default(),
            );
        }
        // A KMS grant is its own door, not the key policy: decided as the record grants
        // it (as is another account's access point on a bucket). Whether it still exists is not asked: a new grant can take minutes to show
        // in ListGrants, and "not found" must never read as "nothing shared".
        if let CarriedPolicy::KeyGrant { doc, .. } | CarriedPolicy::Record { doc, .. } = &policy {
            let before = Before::record(doc.to_json().ok());
            return (
                decide_with_policy(al, summary, resource, policy, opts),
                before,
            );
        }
        match self.read_live(&resource, door_of(&summary)).await {
            Ok(live) => {
                let (mut carried, before) = live.into_carried();
                if let CarriedPolicy::PublicAccessBlock(change) = &mut carried {
                    if change.settings != PublicAccessBlock([true; 4]) {
                        change.exposed = self.exposure(&resource).await;
                    }
                }
                (
                    decide_with_policy(al, summary, resource, carried, opts),
                    Before {
                        policy: before,
                        live: true,
                    },
                )
            }
            Err(e) => self.decide_on_the_record(summary, resource, policy, &e),
        }
    }

    /// Without the live policy nothing is changed: the event's copy may be stale. The
    /// alert still goes out, decided on that copy.
    fn decide_on_the_record(
        &self,
        summary: EventSummary,
        resource: Resource,
        policy: CarriedPolicy,
        e: &AwsError,
    ) -> (Decision, Before) {
        let al = &self.allowlist;
        let capped = match al.mode_for(&resource) {
            Mode::DryRun => Mode::DryRun,
            _ => Mode::Alert,
        };
        let before = match &policy {
            CarriedPolicy::Document(doc) | CarriedPolicy::Added(doc) => doc.to_json().ok(),
            CarriedPolicy::Acl(acl) => acl.to_json(),
            CarriedPolicy::PublicAccessBlock(c) => Some(c.settings.to_json()),
            _ => None,
        };
        let opts = Options {
            mode: Some(capped),
            ..Options::default()
        };
        // A record's ACL names its owner as the caller wrote it: a grant to that id
        // passes as the owner's only when S3 says so. Unread, nothing passes.
        let acl = matches!(policy, CarriedPolicy::Acl(_));
        let mut d = decide_with_policy(al, summary, resource, policy, opts);
        if acl && d.verdict == Verdict::Compliant {
            d = Decision {
                event: d.event.take(),
                ..Decision::error(
                    d.resource.take(),
                    format!("could not be checked: the live ACL could not be read ({e}), and the record's owner id is only the caller's claim"),
                )
            };
            return (d, Before::record(before));
        }
        d.reason = format!(
            "{} (the live policy could not be read: {e}; decided on the event's copy, nothing changed)",
            d.reason
        );
        (d, Before::record(before))
    }

    /// What the door a call opened holds now: the bucket ACL for an ACL call, the
    /// resource policy otherwise.
    async fn read_live(&self, resource: &Resource, door: Option<Door>) -> Result<Live, AwsError> {
        match door {
            Some(Door::Acl) => self.policies.read_acl(resource).await,
            Some(Door::PublicAccessBlock) => self.policies.read_public_access_block(resource).await,
            _ => self.policies.read(resource).await,
        }
    }

    /// What a lowered Block Public Access lets in now: a bucket policy or ACL that is
    /// public and unapproved, read live. `None` when nothing is, or for the account's
    /// settings (every bucket would have to be read). Unreadable is said, never taken
    /// for nothing.
    async fn exposure(&self, resource: &Resource) -> Option<String> {
        if resource.is_every_bucket() {
            return None;
        }
        let mut found = Vec::new();
        for (door, what) in [
            (None, "a public bucket policy"),
            (Some(Door::Acl), "a public bucket ACL"),
        ] {
            match self.read_live(resource, door).await {
                Ok(live) => {
                    let (carried, _) = live.into_carried();
                    let d = decide_carried(
                        &self.allowlist,
                        resource.clone(),
                        carried,
                        Options::default(),
                    );
                    if d.violations().any(|f| f.scope == Scope::Public) {
                        found.push(what.to_string());
                    } else if d.verdict == Verdict::Error {
                        found.push(format!("{what} that could not be checked ({})", d.reason));
                    }
                }
                Err(e) => found.push(format!("{what} that could not be read ({e})")),
            }
        }
        (!found.is_empty()).then(|| found.join(" and "))
    }

    /// Carry out the decision's action; `None` when nothing is to be reported.
    async fn act(&self, d: &Decision) -> Option<Outcome> {
        match d.action {
            Action::Alert => Some(Outcome::Alerted),
            Action::Remediate => Some(self.remediate(d).await),
            Action::None => {
                // A guarded change that could not be checked is reported, except in dry-run.
                let mode = d
                    .resource
                    .as_ref()
                    .map(|r| self.allowlist.mode_for(r))
                    .unwrap_or(self.allowlist.mode);
                (d.verdict == Verdict::Error && mode != Mode::DryRun).then_some(Outcome::Alerted)
            }
        }
    }

    async fn remediate(&self, d: &Decision) -> Outcome {
        let (Some(resource), Some(plan)) = (d.resource.as_ref(), d.remediation.as_ref()) else {
            return Outcome::Alerted;
        };
        // A grant never changes: it is revoked as decided (one already gone, too).
        if let (PlanKind::RevokeGrant, Some(id)) = (plan.kind, &plan.grant_id) {
            return match self.policies.revoke_grant(resource, id).await {
                Ok(()) => Outcome::Remediated,
                Err(e) => Outcome::RemediationFailed(e.to_string()),
            };
        }
        // The policy may have changed since it was read; writing the plan then would undo
        // someone else's change. Check again right before writing.
        if let Err(why) = self.unchanged_since_decided(resource, d).await {
            return Outcome::RemediationFailed(why);
        }
        let result = match (plan.kind, &plan.policy) {
            // Written a statement at a time: exactly the statements the verified plan
            // drops go, by Sid (the engine refuses any other plan for these kinds).
            (PlanKind::PutPolicy | PlanKind::DeletePolicy, _)
                if resource.kind.spec().edited == Edited::BySid =>
            {
                let sids: BTreeSet<String> = plan
                    .removed
                    .iter()
                    .filter_map(|r| r.sid.as_deref().map(String::from))
                    .collect();
                let sids: Vec<String> = sids.into_iter().collect();
                self.policies.remove_statements(resource, &sids).await
            }
            (PlanKind::PutPolicy | PlanKind::DenyAllTrust, Some(policy)) => {
                self.policies.write(resource, &policy.to_string()).await
            }
            (PlanKind::DeletePolicy, _) => self.policies.delete(resource).await,
            (PlanKind::PutPublicAccessBlock, _) => match &plan.public_access_block {
                Some(settings) => {
                    self.policies
                        .write_public_access_block(resource, settings)
                        .await
                }
                None => return Outcome::Alerted,
            },
            (PlanKind::PutAcl, _) => match &plan.acl {
                Some(acl) => self.policies.write_acl(resource, acl).await,
                None => return Outcome::Alerted,
            },
            _ => return Outcome::Alerted,
        };
        match result {
            Ok(()) => Outcome::Remediated,
            Err(e) => Outcome::RemediationFailed(e.to_string()),
        }
    }

    async fn unchanged_since_decided(
        &self,
        resource: &Resource,
        d: &Decision,
    ) -> Result<(), String> {
        // The same door as the decision read.
        let door = d.event.as_ref().and_then(door_of);
        let now = self
            .read_live(resource, door)
            .await
            .map_err(|e| e.to_string())?;
        let (carried, _) = now.into_carried();
        let again = decide_with_policy(
            &self.allowlist,
            d.event.clone().unwrap_or_default(),
            resource.clone(),
            carried,
            Options::default(),
        );
        if again.remediation == d.remediation {
            Ok(())
        } else {
            Err("the policy changed while it was being decided: not touched; the change's own event will be decided".into())
        }
    }
}
