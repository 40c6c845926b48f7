//! Text a person reads at a glance: one block per decision.

use crate::allowlist::Mode;
use crate::decision::{Action, Decision, Verdict};
use crate::event::EventSummary;
use crate::finding::{Finding, Scope};
use crate::remediation::{Plan, PlanKind};
use crate::resource::Resource;
use std::borrow::Cow;
use std::fmt::Write;

/// Text with its control characters (C0, DEL, C1: ESC, CR, NUL…) written as `\u{1b}`:
/// event fields are attacker-chosen, and a raw ESC or CR reaching a terminal can rewrite
/// what a person sees (colours, cursor moves, overwritten lines).
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    escape_where(s, unsafe_char)
}

/// The same, but newlines stay (a CSV cell may hold them, quoted).
pub fn escape_controls_but_newlines(s: &str) -> Cow<'_, str> {
    escape_where(s, |c| c != '\n' && unsafe_char(c))
}

fn escape_where(s: &str, unsafe_char: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !s.chars().any(&unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Control characters, and the bidirectional overrides that reorder what is shown.
fn unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// One line of the rendering: whatever it quotes is shown, never obeyed.
fn line(out: &mut String, text: &str) {
    out.push_str(&escape_controls(text));
    out.push('\n');
}

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
        (Scope::Public, _, _) => "everyone (public)".into(),
        (Scope::Internal, Some(a), _) => format!("{a} (owner)"),
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

/// One decision as text for a person: the CLI's `--format text`.
pub fn decision_text(d: &Decision) -> String {
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
    line(&mut out, &format!("{verdict:<9}  {res}"));
    if let Some(e) = &d.event {
        line(&mut out, &event_line(e));
    }
    line(&mut out, &format!("  why      {}", d.reason));
    for f in &d.findings {
        let sid = f
            .sid
            .as_deref()
            .map(|s| format!(" {s:?}"))
            .unwrap_or_default();
        line(
            &mut out,
            &format!(
                "  {} stmt {}{sid}: {} → {} may {}",
                mark(f),
                f.statement,
                f.principal,
                who(f),
                actions(f)
            ),
        );
        line(&mut out, &format!("           {}", f.reason));
    }
    if d.verdict == Verdict::Violation {
        let mode = d.mode.map_or("?", Mode::as_str);
        let act = match d.action {
            Action::None => "none (dry run: decide and record only)",
            Action::Alert => "alert",
            Action::Remediate => "remediate",
        };
        line(&mut out, &format!("  action   {act} (mode {mode})"));
    }
    if let Some(p) = &d.remediation {
        plan_lines(&mut out, p, d.resource.as_ref());
    }
    out
}

/// `  event    NAME at TIME by ACTOR from IP [ID]`, with what the event has.
fn event_line(e: &EventSummary) -> String {
    let mut text = format!("  event    {}", e.name.as_deref().unwrap_or("?"));
    if let Some(t) = &e.time {
        let _ = write!(text, " at {t}");
    }
    if let Some(a) = &e.actor {
        let _ = write!(text, " by {a}");
    }
    if let Some(ip) = &e.source_ip {
        let _ = write!(text, " from {ip}");
    }
    if let Some(id) = &e.id {
        let _ = write!(text, " [{id}]");
    }
    text
}

/// The plan: what it does, why not when refused, each removed grant, the new policy.
fn plan_lines(out: &mut String, p: &Plan, resource: Option<&Resource>) {
    let delete;
    let what = match p.kind {
        PlanKind::PutPolicy => "put the policy below",
        PlanKind::DeletePolicy => {
            let name = resource.map_or("policy", |r| r.kind.spec().policy_name);
            delete = format!("delete the {name} (nothing approved is left in it)");
            delete.as_str()
        }
        PlanKind::DenyAllTrust => {
            "replace the trust with a deny-all trust (nothing approved is left in it)"
        }
        PlanKind::RevokeGrant => {
            delete = format!("revoke KMS grant {}", p.grant_id.as_deref().unwrap_or("?"));
            delete.as_str()
        }
        PlanKind::PutAcl => "put the bucket ACL below (every grant but the unapproved ones)",
        PlanKind::PutPublicAccessBlock => "turn Block Public Access back on as below",
        PlanKind::Undo => "undo it as below",
        PlanKind::Refused => "none: no safe plan",
    };
    line(out, &format!("  plan     {what}"));
    if let Some(r) = &p.reason {
        line(out, &format!("           {r}"));
    }
    for r in &p.removed {
        let text = if p.kind == PlanKind::PutAcl {
            format!(
                "           - remove ACL grant {}: {}",
                r.statement, r.principal
            )
        } else {
            format!(
                "           - remove {} from statement {} ({})",
                r.principal, r.statement, r.cut
            )
        };
        line(out, &text);
    }
    let shown: Option<Result<Cow<'_, serde_json::Value>, serde_json::Error>> = match p.kind {
        PlanKind::PutPolicy => p.policy.as_ref().map(|t| t.to_value().map(Cow::Owned)),
        PlanKind::PutAcl => p.acl.as_ref().map(|v| Ok(Cow::Borrowed(v))),
        PlanKind::PutPublicAccessBlock => {
            p.public_access_block.as_ref().map(|v| Ok(Cow::Borrowed(v)))
        }
        PlanKind::Undo => p.undo.as_ref().map(|v| Ok(Cow::Borrowed(v))),
        _ => None,
    };
    if let Some(pol) = shown {
        // A JSON value always encodes, and a plan's policy text was made from JSON read
        // before; were either ever to fail, the plan says so.
        let pretty = pol
            .and_then(|v| serde_json::to_string_pretty(&*v))
            .unwrap_or_else(|e| format!("(the policy could not be shown: {e})"));
        for l in pretty.lines() {
            line(out, &format!("           {l}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::escape_controls;

    #[test]
    fn control_characters_are_shown_not_obeyed() {
        assert_eq!(escape_controls("plain → text"), "plain → text");
        assert_eq!(
            escape_controls("a\u{1b}[2Jb\rc\u{0}\u{9b}d\u{202e}"),
            "a\\u{1b}[2Jb\\u{d}c\\u{0}\\u{9b}d\\u{202e}"
        );
    }
}
