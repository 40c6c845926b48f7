//! crossguard's engine: decides which outside accounts (or the whole internet) an S3
//! bucket policy, IAM role trust policy or KMS key policy lets in, checks each grant
//! against an allowlist of approved account pairings, and plans the surgical removal of
//! the unapproved ones. Pure: no AWS SDK, no I/O but the clock in [`Options::default`].
//!
//! Layers, each usable alone: [`policy`] (documents in every delivered form) →
//! [`analysis`] (grants) → [`decision`] (approval, verdict, action) → [`remediation`]
//! (the plan), with [`allowlist`] and [`event`] (CloudTrail) beside them.

#![warn(missing_docs)]

pub mod acl;
pub mod alert;
pub mod allowlist;
pub mod analysis;
pub mod asff;
pub mod bpa;
pub mod condition;
pub mod date;
pub mod decision;
pub mod doors;
pub mod event;
pub mod evidence;
pub mod finding;
pub mod json;
pub mod kinds;
pub mod ocsf;
pub mod policy;
pub mod principal;
pub mod remediation;
pub mod render;
pub mod report;
pub mod resource;
pub mod restore;
pub mod suggest;
pub mod tamper;
pub mod who;
pub mod wildcard;

pub use allowlist::{Allowlist, AllowlistError, Mode};
pub use date::Date;
pub use decision::{decide, Action, Decision, Options, Verdict};
pub use event::{CarriedPolicy, EventError, EventSummary, ParsedEvent};
pub use finding::{Finding, Scope};
pub use policy::{PolicyDocument, PolicyError};
pub use remediation::{Plan, PlanKind};
pub use resource::{Resource, ResourceKind};
pub use who::Who;

/// Decide a parsed event on the policy it carries, as the guard would offline.
/// The Lambda reads the live policy instead and calls [`decide_with_policy`].
pub fn decide_parsed(allowlist: &Allowlist, parsed: ParsedEvent, opts: Options) -> Decision {
    match parsed {
        ParsedEvent::Guarded {
            summary,
            resource,
            policy,
        } => decide_with_policy(allowlist, summary, resource, policy, opts),
        ParsedEvent::Ignored {
            summary,
            resource,
            reason,
        } => Decision {
            event: Some(summary),
            ..Decision::ignored(resource, reason)
        },
        ParsedEvent::Invalid { summary, reason } => Decision {
            event: Some(summary),
            ..Decision::error(None, reason)
        },
    }
}

/// Decide a guarded event on a given policy (the event's copy, or the live one).
pub fn decide_with_policy(
    allowlist: &Allowlist,
    summary: EventSummary,
    resource: Resource,
    policy: CarriedPolicy,
    opts: Options,
) -> Decision {
    if let Some(pattern) = allowlist.ignores_actor(&summary.actor_arns_in(&resource.account)) {
        let who = summary.actor.clone().unwrap_or_default();
        return Decision {
            event: Some(summary),
            ..Decision::ignored(
                Some(resource),
                format!("actor {who} matches ignore_actors {pattern:?}: recorded, not acted on"),
            )
        };
    }
    let mut d = decide_carried(allowlist, resource, policy, opts);
    d.event = Some(summary);
    d
}

/// Decide a resource on its policy as carried: in an event, or read live (the guard's
/// read, `scan`'s listing). Unreadable is an `error`, never a guess.
pub fn decide_carried(
    allowlist: &Allowlist,
    resource: Resource,
    policy: CarriedPolicy,
    opts: Options,
) -> Decision {
    match policy {
        CarriedPolicy::Document(doc) => decide(allowlist, &resource, Some(&doc), opts),
        CarriedPolicy::None(why) => Decision {
            reason: why.to_string(),
            ..decide(allowlist, &resource, None, opts)
        },
        CarriedPolicy::Added(doc) => {
            let mut d = decide(allowlist, &resource, Some(&doc), opts);
            if d.remediation.take().is_some() {
                d.reason = format!(
                    "{} (decided on the grant the call added; a fix is planned on the live policy, which the guard reads)",
                    d.reason
                );
            }
            d
        }
        CarriedPolicy::KeyGrant { doc, grant_id } => {
            let mut d = decide(allowlist, &resource, Some(&doc), opts);
            d.reason = format!(
                "KMS grant {}: {}",
                grant_id.as_deref().unwrap_or("(id not recorded)"),
                d.reason
            );
            // A grant is fixed by revoking it, whatever a policy plan would have said.
            if d.remediation.take().is_some() {
                let plan = remediation::Plan::for_grant(&doc, &d.findings, grant_id);
                d.action = match (d.mode, plan.kind) {
                    (Some(Mode::DryRun), _) => Action::None,
                    (Some(Mode::Remediate), remediation::PlanKind::RevokeGrant) => {
                        Action::Remediate
                    }
                    _ => Action::Alert,
                };
                d.remediation = Some(plan);
            }
            d
        }
        CarriedPolicy::Acl(acl) => doors::decide_acl(allowlist, &resource, &acl, opts),
        CarriedPolicy::Record { doc, what } => {
            let mut d = decide(allowlist, &resource, Some(&doc), opts);
            d.reason = format!("{what}: {}", d.reason);
            // Another account's part: the owner cannot remove it from here.
            if d.remediation.take().is_some() && d.action == Action::Remediate {
                d.action = Action::Alert;
            }
            if d.verdict == Verdict::Violation {
                d.reason.push_str(
                    " (it belongs to that account: delete it there, or approve it with a pairing)",
                );
            }
            d
        }
        CarriedPolicy::PublicAccessBlock(change) => {
            doors::decide_public_access_block(allowlist, &resource, &change, opts)
        }
        CarriedPolicy::Unreadable(why) => Decision::error(Some(resource), why),
    }
}

/// Parse one record of an input: a CloudTrail record, or an EventBridge event of another
/// detail-type (ignored, keyed by the EventBridge event id).
pub fn parse_input_record(record: event::Record<'_>) -> ParsedEvent {
    match record {
        event::Record::CloudTrail(rec) => event::parse_record(rec),
        event::Record::OtherDetailType { id, detail_type } => ParsedEvent::Ignored {
            summary: EventSummary {
                id,
                ..EventSummary::default()
            },
            resource: None,
            reason: format!(
                "EventBridge detail-type {detail_type:?} is not {:?}",
                event::DETAIL_TYPE
            ),
        },
    }
}

/// Parse one record of an input read exactly: as [`parse_input_record`], but a duplicate
/// key makes a guarded record (or one whose identity is in doubt) an `error`.
pub fn parse_checked_input(input: event::CheckedRecord<'_>) -> ParsedEvent {
    let Some(dup) = input.duplicate else {
        return parse_input_record(input.record);
    };
    if !dup.identity && matches!(input.record, event::Record::OtherDetailType { .. }) {
        return parse_input_record(input.record);
    }
    match input.record {
        event::Record::CloudTrail(rec) => event::parse_checked_record(rec, Some(&dup)),
        event::Record::OtherDetailType { id, .. } => ParsedEvent::Invalid {
            summary: EventSummary {
                id,
                ..EventSummary::default()
            },
            reason: format!("could not be checked: {}", dup.reason),
        },
    }
}

/// Decide every CloudTrail record in an input read with [`json::from_str`]: an
/// EventBridge event, a bare record, or a log file's `{"Records": […]}`.
pub fn decide_event(
    allowlist: &Allowlist,
    input: &json::Checked,
    opts: Options,
) -> Result<Vec<Decision>, EventError> {
    Ok(event::records_checked(input)?
        .into_iter()
        .map(|r| decide_parsed(allowlist, parse_checked_input(r), opts))
        .collect())
}

/// Decide every record of an input given as JSON text (the CLI's and tests' entry).
pub fn decide_event_text(
    allowlist: &Allowlist,
    text: &str,
    opts: Options,
) -> Result<Vec<Decision>, EventError> {
    let input = json::from_str(text).map_err(|e| EventError::Json(e.to_string()))?;
    decide_event(allowlist, &input, opts)
}
