//! Text a person reads at a glance: one block per decision.

use crate::decision::{Action, Decision, Finding, Verdict};
use crate::remediation::PlanKind;
use std::fmt::Write;

fn mark(f: &Finding) -> &'static str {
    if f.approved {
        "ok  "
    } else if f.warning {
        "WARN"
    } else {
        "DENY"
    }
}

/// Who a finding lets in, for a person: the text output and the alert both say it so.
pub fn who(f: &Finding) -> String {
    match (f.scope, &f.account, &f.org) {
        ("public", _, _) => "everyone (public)".into(),
        ("internal", Some(a), _) => format!("{a} (owner)"),
        (_, Some(a), _) => format!("account {a}"),
        (_, None, Some(o)) => format!("organization {o}"),
        _ => "an unresolvable principal".into(),
    }
}

fn actions(f: &Finding) -> String {
    match f.actions.except() {
        Some(n) => format!("every action except {}", n.join(", ")),
        None => f.actions.listed().join(", "),
    }
}

/// Render one decision as text.
pub fn text(d: &Decision) -> String {
    let mut out = String::new();
    let verdict = match d.verdict {
        Verdict::Compliant => "COMPLIANT",
        Verdict::Violation => "VIOLATION",
        Verdict::Ignored => "IGNORED",
        Verdict::Error => "ERROR",
    };
    let res = d
        .resource
        .as_ref()
        .map(|r| format!("{}  (owner {})", r.spec(), r.account))
        .unwrap_or_default();
    let _ = writeln!(out, "{verdict:<9}  {res}");
    if let Some(e) = &d.event {
        let mut line = format!("  event    {}", e.name.as_deref().unwrap_or("?"));
        if let Some(t) = &e.time {
            let _ = write!(line, " at {t}");
        }
        if let Some(a) = &e.actor {
            let _ = write!(line, " by {a}");
        }
        if let Some(ip) = &e.source_ip {
            let _ = write!(line, " from {ip}");
        }
        if let Some(id) = &e.id {
            let _ = write!(line, " [{id}]");
        }
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "  why      {}", d.reason);
    for f in &d.findings {
        let sid = f
            .sid
            .as_deref()
            .map(|s| format!(" {s:?}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} stmt {}{sid}: {} → {} may {}",
            mark(f),
            f.statement,
            f.principal,
            who(f),
            actions(f)
        );
        let _ = writeln!(out, "           {}", f.reason);
    }
    if d.verdict == Verdict::Violation {
        let mode = d.mode.map(|m| m.as_str()).unwrap_or("?");
        let act = match d.action {
            Action::None => "none (dry run: decide and record only)",
            Action::Alert => "alert",
            Action::Remediate => "remediate",
        };
        let _ = writeln!(out, "  action   {act} (mode {mode})");
    }
    if let Some(p) = &d.remediation {
        let what = match p.kind {
            PlanKind::PutPolicy => "put the policy below",
            PlanKind::DeletePolicy => "delete the bucket policy (nothing approved is left in it)",
            PlanKind::DenyAllTrust => {
                "replace the trust with a deny-all trust (nothing approved is left in it)"
            }
            PlanKind::Refused => "none: no safe plan",
        };
        let _ = writeln!(out, "  plan     {what}");
        if let Some(r) = &p.reason {
            let _ = writeln!(out, "           {r}");
        }
        for r in &p.removed {
            let _ = writeln!(
                out,
                "           - remove {} from statement {} ({})",
                r.principal, r.statement, r.cut
            );
        }
        if let (PlanKind::PutPolicy, Some(pol)) = (p.kind, &p.policy) {
            let pretty = serde_json::to_string_pretty(pol).unwrap_or_default();
            for l in pretty.lines() {
                let _ = writeln!(out, "           {l}");
            }
        }
    }
    out
}
