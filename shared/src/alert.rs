//! The SNS alert for a violating decision (SPEC §4): a subject of at most 100 characters
//! naming the resource, a body a person reads (who, what, when, from where, which grants,
//! what was done) followed by the full decision as JSON, and message attributes for
//! subscription filters (`severity`, `account`, `resource_kind`).

use crate::decision::{Action, Decision, Verdict};
use crate::finding::Scope;
use crate::remediation::PlanKind;
use std::fmt::Write;

pub mod protocols;

/// SNS refuses subjects over 100 characters.
pub const MAX_SUBJECT: usize = 100;

/// SNS refuses messages over 256 KiB (body and attributes together); the body keeps a
/// margin for the attributes.
pub const MAX_BODY: usize = 250 * 1024;

/// What the guard did about a decision, as the alert reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Alert only (mode `alert`, or no safe plan).
    Alerted,
    /// The plan was applied.
    Remediated,
    /// The plan could not be applied; the reason says why (access denied, throttled…).
    RemediationFailed(String),
}

/// An alert as SNS takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// At most [`MAX_SUBJECT`] characters, naming the resource.
    pub subject: String,
    /// What a person reads, then the decision as JSON (within [`MAX_BODY`]).
    pub body: String,
    /// Message attributes: `severity` (`critical` | `high` | `medium`), `account`,
    /// `resource_kind`.
    pub attributes: Vec<(&'static str, String)>,
    /// The same alert for each kind of subscriber, as SNS's `MessageStructure=json` takes
    /// it ([`protocols::structured`]); `None`: the body goes to every subscriber.
    pub structured: Option<String>,
}

/// How bad the worst violating finding is: `critical` for public or unresolvable access,
/// `high` for an unapproved account or organisation, `medium` otherwise.
pub fn severity(d: &Decision) -> &'static str {
    if let Some(s) = d.severity {
        return s;
    }
    let worst = |of: &[Scope]| d.violations().any(|f| of.contains(&f.scope));
    if worst(&[Scope::Public, Scope::Unresolvable]) {
        "critical"
    } else if worst(&[Scope::Account, Scope::Org]) {
        "high"
    } else {
        "medium"
    }
}

/// Cut to at most `max` characters on a character boundary, marking the cut with `…`.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The alert for a violating (or failed) decision; `None` when there is nothing to say.
pub fn render(d: &Decision, outcome: &Outcome) -> Option<Alert> {
    if d.verdict != Verdict::Violation && d.verdict != Verdict::Error {
        return None;
    }
    let resource = d.resource.as_ref();
    // SNS refuses an empty attribute value: an event crossguard could not read names no
    // resource, so the account that recorded it stands in, else "unknown".
    let account = resource
        .map(|r| r.account.clone())
        .or_else(|| d.event.as_ref().and_then(|e| e.account.clone()))
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "unknown".into());
    let subject = subject(d, outcome, &account);
    let mut body = readable(d, outcome, &subject);
    let _ = writeln!(body);
    decision_json(&mut body, d);
    let attributes = vec![
        ("severity", severity(d).to_string()),
        ("account", account),
        (
            "resource_kind",
            match (resource, &d.tamper) {
                (Some(r), _) => r.kind.as_str().to_string(),
                (None, Some(_)) => "guard".into(),
                (None, None) => "unknown".into(),
            },
        ),
    ];
    Some(Alert {
        subject,
        body,
        attributes,
        structured: None,
    })
}

/// What a person reads: the subject, the facts, what was done (the body before the
/// decision's JSON).
fn readable(d: &Decision, outcome: &Outcome, subject: &str) -> String {
    let mut body = String::new();
    let _ = writeln!(body, "{subject}");
    let _ = writeln!(body);
    facts(&mut body, d);
    let _ = writeln!(body);
    let _ = writeln!(body, "{}", what_was_done(d, outcome));
    if let Some(p) = &d.remediation {
        if !p.removed.is_empty() && matches!(outcome, Outcome::Remediated) {
            let _ = writeln!(body, "The removed grants and their original statements are in the decision below and in the evidence record.");
        }
    }
    body
}

/// `crossguard: WHAT [ACCOUNT] RESOURCE`, at most [`MAX_SUBJECT`] characters.
fn subject(d: &Decision, outcome: &Outcome, account: &str) -> String {
    if let Some(t) = &d.tamper {
        let what = match (d.verdict, outcome) {
            (Verdict::Error, _) => "guard tampering could not be checked",
            (_, Outcome::Remediated) => "guard tampered with, undone",
            (_, Outcome::RemediationFailed(_)) => "guard tampered with, undo FAILED",
            _ => "guard tampered with",
        };
        let head = format!("crossguard: {what} [{account}] {} ", t.part);
        return format!(
            "{head}{}",
            clip(&t.name, MAX_SUBJECT.saturating_sub(head.chars().count()))
        );
    }
    let spec = d
        .resource
        .as_ref()
        .map(|r| r.spec().to_string())
        .unwrap_or_else(|| "unknown resource".into());
    let what = match (d.verdict, outcome) {
        (Verdict::Error, _) => "could not be checked",
        (_, Outcome::Remediated) => "unapproved access removed",
        (_, Outcome::RemediationFailed(_)) => "unapproved access, removal FAILED",
        _ => "unapproved access",
    };
    // The resource name is what a reader needs: it is clipped last.
    let head = format!("crossguard: {what} [{account}] ");
    format!(
        "{head}{}",
        clip(&spec, MAX_SUBJECT.saturating_sub(head.chars().count()))
    )
}

/// The resource, the change (who, when, from where), the verdict and each violation.
fn facts(body: &mut String, d: &Decision) {
    if let Some(r) = &d.resource {
        let _ = writeln!(body, "Resource:  {} ({})", r.arn, r.spec());
        let _ = writeln!(body, "Owner:     {}", r.account);
    }
    if let Some(e) = &d.event {
        let or = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        let _ = writeln!(body, "Change:    {} ({})", or(&e.name), or(&e.id));
        let _ = writeln!(body, "Who:       {}", or(&e.actor));
        let _ = writeln!(body, "When:      {}", or(&e.time));
        let _ = writeln!(
            body,
            "From:      {} ({})",
            or(&e.source_ip),
            or(&e.user_agent)
        );
    }
    let _ = writeln!(body, "Verdict:   {} ({})", d.reason, severity(d));
    let _ = writeln!(body);
    for f in d.violations() {
        let who = crate::render::who(f);
        let _ = writeln!(
            body,
            "- statement {}: {} lets in {who}: {}",
            f.statement, f.principal, f.reason
        );
    }
}

fn what_was_done(d: &Decision, outcome: &Outcome) -> String {
    match (d.action, outcome, d.remediation.as_ref().map(|p| p.kind)) {
        (_, Outcome::Remediated, Some(PlanKind::DeletePolicy)) => {
            let name = d
                .resource
                .as_ref()
                .map_or("policy", |r| r.kind.spec().policy_name);
            format!("Removed: the {name} was deleted (nothing approved was left in it).")
        }
        (_, Outcome::Remediated, Some(PlanKind::RevokeGrant)) => {
            "Removed: the KMS grant was revoked.".to_string()
        }
        (_, Outcome::Remediated, Some(PlanKind::Undo)) => {
            "Undone: the call below was made to switch the guard's part back on. Find out who did this and why."
                .to_string()
        }
        (_, Outcome::Remediated, Some(PlanKind::PutPublicAccessBlock)) => {
            "Restored: the Block Public Access settings that were off without approval are on again."
                .to_string()
        }
        (_, Outcome::Remediated, Some(PlanKind::PutAcl)) => {
            "Removed: the unapproved ACL grants above; the bucket ACL keeps every other grant."
                .to_string()
        }
        (_, Outcome::Remediated, Some(PlanKind::DenyAllTrust)) => {
            "Removed: the trust now denies everyone (nothing approved was left in it).".to_string()
        }
        (_, Outcome::Remediated, _) => {
            "Removed: the unapproved grants above; approved access is untouched.".to_string()
        }
        (_, Outcome::RemediationFailed(why), _) => {
            format!("Remediation FAILED: {why}. The grants above are still in place.")
        }
        (Action::Alert, _, Some(PlanKind::Refused)) => {
            "Not changed: no plan could remove these grants without touching approved access."
                .to_string()
        }
        (Action::Alert, _, _) => {
            "Not changed (mode alert). The decision below holds the planned fix.".to_string()
        }
        _ => "Not changed.".to_string(),
    }
}

/// The line before the decision's JSON in an alert's body (`allowlist suggest` reads
/// the JSON after it).
pub const DECISION_MARK: &str = "Decision (JSON):";

/// The whole decision as JSON, when it fits in an SNS message.
fn decision_json(body: &mut String, d: &Decision) {
    let json = match serde_json::to_string_pretty(d) {
        Ok(json) => json,
        Err(e) => {
            let _ = writeln!(
                body,
                "Decision (JSON): could not be encoded ({e}): see the evidence record."
            );
            return;
        }
    };
    if body.len() + json.len() + 20 <= MAX_BODY {
        let _ = writeln!(body, "{DECISION_MARK}");
        let _ = writeln!(body, "{json}");
    } else {
        // Only a huge policy gets here: the evidence record keeps the whole decision.
        let _ = writeln!(
            body,
            "Decision (JSON): {} bytes, over SNS's message limit: see the evidence record.",
            json.len()
        );
    }
}
