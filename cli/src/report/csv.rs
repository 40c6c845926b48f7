//! CSV, one line a row (RFC 4180), safe to open in a spreadsheet.

use super::{pairings, parties, tickets};
use crossguard_engine::report::{verdict_str, Change, Standing};

pub const CSV_HEADER: &str = "origin,source,event_id,time,event_name,account,region,resource_kind,resource,actor,verdict,action,outcome,unapproved,approved,approved_by,tickets,reason";

/// One CSV field, quoted when needed (RFC 4180). A cell a spreadsheet would run as a
/// formula gets a leading `'` (names and reasons can come from an attacker).
fn csv_field(out: &mut String, s: &str) {
    // A newline is a cell's own (quoted below); any other control character is escaped,
    // as in the text report.
    let cleaned = crossguard_engine::render::escape_controls_but_newlines(s);
    let s = &*cleaned;
    let formula = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if formula || s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if formula {
            out.push('\'');
        }
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// One CSV line (with its newline) for a row.
pub fn csv_line(c: &Change) -> String {
    let fields = [
        c.origin.as_str().to_string(),
        c.sources.join("; "),
        c.event_id.clone().unwrap_or_default(),
        c.time.clone().unwrap_or_default(),
        c.event_name.clone().unwrap_or_default(),
        c.account.clone().unwrap_or_default(),
        c.region.clone().unwrap_or_default(),
        c.kind.clone().unwrap_or_default(),
        c.resource.clone().unwrap_or_default(),
        c.actor.clone().unwrap_or_default(),
        verdict_str(c.verdict).to_string(),
        c.action.clone(),
        c.outcome.clone().unwrap_or_default(),
        parties(c, Standing::Unapproved),
        parties(c, Standing::Approved),
        pairings(c),
        tickets(c),
        c.reason.clone(),
    ];
    let mut line = String::new();
    for (n, f) in fields.iter().enumerate() {
        if n > 0 {
            line.push(',');
        }
        csv_field(&mut line, f);
    }
    line.push('\n');
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{decision, finding};
    use crate::report::write_text;
    use crossguard_engine::report::{Origin, Report};
    use serde_json::json;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let mut d = decision("e1", "violation", json!([finding("*", false)]));
        d["resource"]["name"] = json!("=cmd|x");
        d["reason"] = json!("a, \"b\"");
        let line = csv_line(&Change::from_decision(&d, Origin::CloudTrail, "f", None));
        assert!(line.contains(",\"'=cmd|x\","), "{line}");
        assert!(line.contains(",\"a, \"\"b\"\"\"\n"), "{line}");
        assert_eq!(
            line.matches(',').count() - 1,
            CSV_HEADER.matches(',').count()
        );
    }

    #[test]
    fn text_and_csv_show_control_characters_never_obey_them() {
        let mut d = decision("e1", "violation", json!([finding("*", false)]));
        d["resource"]["name"] = json!("b\n  2026-01-01 compliant forged line\u{1b}[2J");
        d["reason"] = json!("why\r\u{7}");
        let change = Change::from_decision(&d, Origin::CloudTrail, "f", None);
        let mut r = Report::default();
        r.add(change.clone());
        let mut out = Vec::new();
        write_text(&r, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains('\u{1b}') && !text.contains('\r'), "{text:?}");
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("  2026-01-01 compliant")),
            "{text}"
        );
        assert!(
            text.contains("b\\u{a}  2026-01-01 compliant forged line\\u{1b}[2J"),
            "{text}"
        );
        let line = csv_line(&change);
        assert!(
            !line.contains('\u{1b}') && !line.contains('\r') && !line.contains('\u{7}'),
            "{line:?}"
        );
        assert!(
            line.contains("\\u{1b}[2J") && line.contains("why\\u{d}\\u{7}"),
            "{line}"
        );
    }
}
