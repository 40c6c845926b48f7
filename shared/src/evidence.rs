//! The compliance evidence record (SPEC §4): one JSON object per evaluated event —
//! approved, violating, ignored or failed — keyed by the CloudTrail event id, holding the
//! event, the policy before, the decision, what was done and how it went, and the removed
//! grants with their original statements so that a person can restore them.

use crate::alert::Outcome;
use crate::decision::Decision;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The record's schema, so readers know its shape.
pub const SCHEMA: &str = "crossguard.evidence/1";

/// The evidence record of one event (SPEC §4).
#[derive(Debug, Clone, Serialize)]
pub struct Evidence<'d> {
    /// [`SCHEMA`].
    pub schema: &'static str,
    /// The CloudTrail event id.
    pub event_id: String,
    /// When the guard recorded it (RFC 3339), given by the caller: the engine reads no clock.
    pub recorded_at: String,
    /// The policy the decision was made on (the live one in the Lambda).
    pub policy_before: Option<Value>,
    /// The decision was made on the door (policy or ACL) as read live, whole: a party it
    /// does not name is not let in (Security Hub findings of it are resolved).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub live: bool,
    /// The whole decision.
    pub decision: &'d Decision,
    /// What was done.
    pub outcome: OutcomeCode,
    /// Why a remediation failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome_detail: Option<String>,
    /// The alert as sent (or as it failed to send), so that a later delivery of the same
    /// event can send it again instead of losing it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert: Option<Delivery>,
}

/// What was done, as the record names it; the detail (why a remediation failed) is
/// beside it in `outcome_detail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeCode {
    /// Nothing was acted on (compliant, ignored, dry run).
    None,
    /// An alert was sent (or is kept to be sent).
    Alerted,
    /// The plan was applied.
    Remediated,
    /// The plan could not be applied.
    RemediationFailed,
}

impl OutcomeCode {
    /// As it is written in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            OutcomeCode::None => "none",
            OutcomeCode::Alerted => "alerted",
            OutcomeCode::Remediated => "remediated",
            OutcomeCode::RemediationFailed => "remediation_failed",
        }
    }
}

/// Whether SNS took an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// SNS took it.
    Sent,
    /// SNS refused it or could not be reached: a later delivery sends it.
    Failed,
}

impl DeliveryStatus {
    /// As it is written in the record.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// An alert and whether SNS took it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// Whether SNS took it.
    pub status: DeliveryStatus,
    /// SNS's message id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_id: Option<String>,
    /// Why it was not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The alert's subject.
    pub subject: String,
    /// The alert's body.
    pub body: String,
    /// Its message attributes.
    pub attributes: Vec<(String, String)>,
    /// The per-protocol message it was sent as (SNS `MessageStructure=json`), so a resend
    /// sends the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub structured: Option<String>,
}

impl Delivery {
    /// The alert and how sending it went (SNS's message id, or the error).
    pub fn new(alert: &crate::alert::Alert, sent: Result<String, String>) -> Delivery {
        let (status, message_id, error) = match sent {
            Ok(id) => (DeliveryStatus::Sent, Some(id), None),
            Err(e) => (DeliveryStatus::Failed, None, Some(e)),
        };
        Delivery {
            status,
            message_id,
            error,
            subject: alert.subject.clone(),
            body: alert.body.clone(),
            attributes: alert
                .attributes
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            structured: alert.structured.clone(),
        }
    }
}

/// Why an event cannot have an evidence record.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EvidenceError {
    /// The event has no id.
    #[error("the event has no eventID: evidence is keyed by it")]
    NoEventId,
    /// The id has characters unsafe in an S3 key.
    #[error("event id {0:?} has characters that are not safe in an S3 key")]
    UnsafeId(String),
}

/// The S3 key of an event's record: one per event id, so a second delivery of the same
/// event finds the first one's record (the Lambda writes it conditionally).
pub fn key(event_id: &str) -> Result<String, EvidenceError> {
    if event_id.is_empty() {
        return Err(EvidenceError::NoEventId);
    }
    if event_id.len() > 200
        || !event_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        || event_id.starts_with('.')
    {
        return Err(EvidenceError::UnsafeId(event_id.to_string()));
    }
    Ok(format!("evidence/{event_id}.json"))
}

/// The key of a tamper check's record of an event: its own, since the same event (a
/// change to the evidence bucket's policy, say) may also be a bucket guard's to decide.
pub fn tamper_key(event_id: &str) -> Result<String, EvidenceError> {
    key(event_id).map(|k| k.replacen("evidence/", "evidence/tamper/", 1))
}

/// The record for a decision. `outcome` is `None` when nothing was acted on.
pub fn record<'d>(
    decision: &'d Decision,
    policy_before: Option<Value>,
    outcome: Option<&Outcome>,
    recorded_at: &str,
) -> Result<Evidence<'d>, EvidenceError> {
    let event_id = decision
        .event
        .as_ref()
        .and_then(|e| e.id.clone())
        .ok_or(EvidenceError::NoEventId)?;
    key(&event_id)?;
    let (outcome, outcome_detail) = match outcome {
        None => (OutcomeCode::None, None),
        Some(Outcome::Alerted) => (OutcomeCode::Alerted, None),
        Some(Outcome::Remediated) => (OutcomeCode::Remediated, None),
        Some(Outcome::RemediationFailed(why)) => {
            (OutcomeCode::RemediationFailed, Some(why.clone()))
        }
    };
    Ok(Evidence {
        schema: SCHEMA,
        event_id,
        recorded_at: recorded_at.to_string(),
        policy_before,
        live: false,
        decision,
        outcome,
        outcome_detail,
        alert: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert_eq!(
            key("c217db1f-903f-4a2f-8f88-9580182d6313").unwrap(),
            "evidence/c217db1f-903f-4a2f-8f88-9580182d6313.json"
        );
        assert_eq!(key("testEventId").unwrap(), "evidence/testEventId.json");
        assert_eq!(key(""), Err(EvidenceError::NoEventId));
        assert!(key("../../etc/passwd").is_err());
        assert!(key("a/b").is_err());
        assert!(key(&"a".repeat(201)).is_err());
    }
}
