//! The report writers: a text summary, CSV, and one self-contained HTML page with its
//! who-trusts-whom picture. Rows, merging and counts are the engine's
//! ([`crossguard_engine::report`]); this is only how they are written out.

mod csv;
mod html;
mod svg;
mod text;

pub use csv::{csv_line, CSV_HEADER};
pub use html::write_html;
pub use text::write_text;

use crossguard_engine::decision::Verdict;
use crossguard_engine::report::{Change, Standing};
use std::collections::BTreeSet;

/// The order verdicts are counted in: what needs a look first.
pub(crate) const VERDICTS: [Verdict; 4] = [
    Verdict::Violation,
    Verdict::Error,
    Verdict::Compliant,
    Verdict::Ignored,
];

pub(crate) fn join<'a>(items: impl Iterator<Item = &'a str>) -> String {
    let mut seen = BTreeSet::new();
    let mut out = String::new();
    for i in items {
        if seen.insert(i) {
            if !out.is_empty() {
                out.push_str("; ");
            }
            out.push_str(i);
        }
    }
    out
}

pub(crate) fn parties(c: &Change, standing: Standing) -> String {
    join(
        c.grantees
            .iter()
            .filter(|g| g.standing == standing)
            .map(|g| g.party.as_str()),
    )
}

pub(crate) fn pairings(c: &Change) -> String {
    join(c.grantees.iter().filter_map(|g| g.approved_by.as_deref()))
}

pub(crate) fn tickets(c: &Change) -> String {
    join(c.grantees.iter().filter_map(|g| g.ticket.as_deref()))
}

pub(crate) fn or_dash(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

#[cfg(test)]
pub(crate) mod testing {
    use serde_json::{json, Value};

    #[allow(clippy::needless_pass_by_value)] // written with json! at each call
    pub fn decision(id: &str, verdict: &str, findings: Value) -> Value {
        json!({
            "verdict": verdict, "action": "alert", "reason": "r",
            "resource": {"kind": "bucket", "name": "b", "account": "222222222222"},
            "findings": findings,
            "event": {"id": id, "time": "2026-01-02T03:04:05Z", "name": "PutBucketPolicy",
                      "actor": "arn:aws:iam::222222222222:user/<alice>"}
        })
    }

    pub fn finding(account: &str, approved: bool) -> Value {
        json!({"scope": if account == "*" {"public"} else {"account"}, "account": account,
               "principal": "p", "approved": approved, "warning": false,
               "approved_by": if approved {json!("pairing-1")} else {Value::Null},
               "ticket": if approved {json!("SEC-1")} else {Value::Null}})
    }
}
