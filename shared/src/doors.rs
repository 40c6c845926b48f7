//! Deciding the doors beside the resource policies: a bucket's ACL ([`crate::acl`]) and
//! Block Public Access ([`crate::bpa`]). Kept apart from their models so that reading a
//! record (which carries them) never depends on deciding.
//!
//! Block Public Access: a setting left off is a door to the public held open. It is
//! approved only where the allowlist means a bucket to be public: a `[[public]]` entry
//! covering the bucket (for the account's settings, any bucket of the owner: one public
//! bucket needs the account's guardrail lowered). Anything else is a violation; the fix
//! turns back on exactly the settings that are off without approval, and the evidence
//! keeps the settings the change left. A lowered guardrail with a public policy or ACL in
//! force behind it is critical, otherwise high.

use crate::acl::Acl;
use crate::allowlist::{Allowlist, Mode};
use crate::analysis::{Grant, Nature, Via, Who};
use crate::bpa::{Change, SETTINGS};

/// `RestrictPublicBuckets`' place in [`SETTINGS`].
const RESTRICT_PUBLIC_BUCKETS: usize = 3;
use crate::decision::{self, Action, Decision, Options, Verdict};
use crate::finding::{Finding, GrantedActions, Scope};
use crate::policy::Actions;
use crate::principal::PrincipalType;
use crate::remediation::{Plan, PlanKind};
use crate::resource::Resource;
use std::collections::BTreeSet;
use std::sync::Arc;

/// Decide a bucket ACL: each grant as its statement ([`Acl::as_policy`]); the plan puts
/// the ACL back without the unapproved grants (approved ones, and the owner's, stay).
/// `live`: the ACL was read from the bucket, so the plan can be applied; from a record
/// whose ACL names the owner without its id, the guard plans on the live ACL instead.
pub fn decide_acl(
    allowlist: &Allowlist,
    resource: &Resource,
    acl: &Acl,
    opts: Options,
) -> Decision {
    let doc = match acl.as_policy(resource, allowlist) {
        Ok(doc) => doc,
        Err(why) => return Decision::error(Some(resource.clone()), why),
    };
    let mut d = decision::decide_unbounded(allowlist, resource, &doc, opts);
    for f in &mut d.findings {
        relabel(f, acl);
    }
    d.reason = format!("bucket ACL: {}", d.reason);
    let Some(plan) = d.remediation.take() else {
        return d;
    };
    d.remediation = Some(match plan.kind {
        PlanKind::PutPolicy | PlanKind::DeletePolicy => {
            let cut: BTreeSet<usize> = plan.removed.iter().map(|r| r.statement).collect();
            let kept = Acl {
                grants: acl
                    .grants
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| !cut.contains(i))
                    .map(|(_, g)| g.clone())
                    .collect(),
                ..acl.clone()
            };
            let mut removed = plan.removed;
            for r in &mut removed {
                if let Some(g) = acl.grants.get(r.statement) {
                    r.principal = g.grantee.describe();
                }
            }
            match kept.to_json() {
                Some(v) => Plan::for_acl(v, removed),
                None => {
                    d.reason = format!(
                        "{} (the record names the owner by a canned ACL, not by id: the guard plans the fix on the live ACL)",
                        d.reason
                    );
                    if d.action == Action::Remediate {
                        d.action = Action::Alert;
                    }
                    return d;
                }
            }
        }
        _ => plan,
    });
    d
}

/// A finding's principal as the ACL names it, not as the statement standing for it.
fn relabel(f: &mut Finding, acl: &Acl) {
    if let Some(g) = acl.grants.get(f.statement) {
        f.principal = format!("{} ({})", g.grantee.describe(), g.permission);
    }
}

/// The `[[public]]` entry that approves this guardrail left off, if any.
fn approval(
    al: &Allowlist,
    resource: &Resource,
    account_wide: bool,
    today: crate::Date,
) -> Option<(String, Option<String>)> {
    al.public
        .iter()
        .filter(|p| decision::expired(p.expires, today).is_ok())
        .find(|p| {
            if account_wide {
                let owner = p.scope.owner == "*" || p.scope.owner == resource.account;
                let bucket = p.scope.resources.as_ref().is_none_or(|rs| {
                    rs.iter()
                        .any(|g| g.starts_with("bucket/") || g.starts_with('*'))
                });
                owner && bucket
            } else {
                p.scope.covers(resource)
            }
        })
        .map(|p| (p.naming.name.to_string(), p.ticket.clone()))
}

/// A finding for one setting left off: it lets anyone in, once a public policy or ACL
/// is there.
fn finding(
    i: usize,
    resource: &Resource,
    approved: Option<&(String, Option<String>)>,
    account_wide: bool,
) -> Finding {
    let (name, what) = SETTINGS[i];
    let principal = format!("{name} off");
    let whose = if account_wide {
        format!("on every bucket of {}", resource.account)
    } else {
        format!("on {}", resource.spec())
    };
    let reason = match approved {
        Some((by, _)) => format!("{what} {whose}; {by} means it to be public"),
        None => format!(
            "{what} {whose}; no [[public]] entry means {} to be public",
            if account_wide {
                "any bucket of the account"
            } else {
                "it"
            }
        ),
    };
    let actions = Arc::new(Actions::Listed(Vec::new()));
    let sid: Arc<str> = Arc::from(name);
    let none = crate::analysis::NONE.clone();
    Finding {
        statement: i,
        sid: Some(sid.clone()),
        principal: principal.clone(),
        account: Some("*".into()),
        org: None,
        scope: Scope::Public,
        actions: GrantedActions(actions.clone()),
        approved: approved.is_some(),
        approved_by: approved.map(|a| Arc::from(a.0.as_str())),
        ticket: approved.and_then(|a| a.1.as_deref().map(Arc::from)),
        warning: false,
        reason: reason.into(),
        untrusted_conditions: none.clone(),
        requires_external_id: None,
        grant: Grant {
            statement: i,
            sid: Some(sid),
            entry: None,
            principal,
            principal_type: PrincipalType::Star,
            who: Who::Public,
            via: Via::Principal,
            nature: Nature::Plain,
            orgs: none.clone(),
            actions,
            external_id: false,
            untrusted_conditions: none,
        },
    }
}

/// Decide a Block Public Access change.
pub fn decide_public_access_block(
    al: &Allowlist,
    resource: &Resource,
    change: &Change,
    opts: Options,
) -> Decision {
    let account_wide = resource.is_every_bucket();
    let approved = approval(al, resource, account_wide, opts.today);
    let findings: Vec<Finding> = (0..4)
        .filter(|i| !change.settings.0[*i])
        .map(|i| finding(i, resource, approved.as_ref(), account_wide))
        .collect();
    let mode = opts.mode.unwrap_or_else(|| al.mode_for(resource));
    let what = if account_wide {
        format!(
            "the account's Block Public Access (every bucket of {})",
            resource.account
        )
    } else {
        format!("Block Public Access on {}", resource.spec())
    };
    let bad = findings.iter().filter(|f| f.is_violation()).count();
    if bad == 0 {
        let reason = if findings.is_empty() {
            format!("{what}: every setting on")
        } else {
            format!("{what}: {} setting(s) off, approved", findings.len())
        };
        return Decision {
            findings,
            mode: Some(mode),
            ..Decision::bare(Verdict::Compliant, Some(resource.clone()), reason)
        };
    }
    // RestrictPublicBuckets is never turned back on by a fix: S3 counts more policies
    // public than crossguard does (a `*` narrowed to approved accounts by conditions), and
    // it cuts every cross-account grant in those, approved or not. It is alerted.
    let mut restored = change.settings;
    for f in findings.iter().filter(|f| f.is_violation()) {
        if f.statement != RESTRICT_PUBLIC_BUCKETS {
            restored.0[f.statement] = true;
        }
    }
    let kept_off = findings
        .iter()
        .any(|f| f.is_violation() && f.statement == RESTRICT_PUBLIC_BUCKETS);
    let plan = if restored == change.settings {
        Plan::refused_because(
            "only RestrictPublicBuckets is off, and turning it on could cut approved cross-account access: turn it on by hand once no approved grant depends on it".into(),
        )
    } else {
        Plan::for_public_access_block(restored.to_json())
    };
    let note = if kept_off && restored != change.settings {
        " (RestrictPublicBuckets is left off by the fix: turning it on could cut approved cross-account access)"
    } else {
        ""
    };
    let exposure = match &change.exposed {
        Some(what) => format!("; {what} is in force behind it"),
        None => String::new(),
    };
    Decision {
        findings,
        mode: Some(mode),
        action: match (mode, plan.kind) {
            (Mode::DryRun, _) => Action::None,
            (Mode::Remediate, PlanKind::PutPublicAccessBlock) => Action::Remediate,
            _ => Action::Alert,
        },
        remediation: Some(plan),
        severity: Some(if change.exposed.is_some() {
            "critical"
        } else {
            "high"
        }),
        ..Decision::bare(
            Verdict::Violation,
            Some(resource.clone()),
            format!("{what}: {bad} setting(s) off without approval{exposure}{note}"),
        )
    }
}
