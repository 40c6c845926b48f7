//! The whole report as one HTML page: no scripts, no external resources (its content
//! security policy allows none). Written with maud, which escapes every value by
//! construction. Rows are written one at a time, so a long report is never held whole.

use super::svg::picture;
use super::{or_dash, pairings, tickets, VERDICTS};
use crossguard_engine::report::{verdict_str, Change, Report};
use maud::{html, Markup, DOCTYPE};
use std::io::{self, Write};

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1d1d1f}\
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:2em}\
table{border-collapse:collapse;margin:.5em 0;width:100%}\
th,td{border:1px solid #d0d0d7;padding:.3em .5em;text-align:left;vertical-align:top}\
th{background:#f2f2f5}td.n{text-align:right}\
tr.violation td{background:#fdecea}tr.error td{background:#fff4e5}\
.badge{font-weight:600}.violation .badge{color:#b3261e}.error .badge{color:#9a5b00}\
.compliant .badge{color:#1b6e2d}.ignored .badge{color:#666}\
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #d0d0d7;border-radius:6px;padding:.6em 1em;min-width:8em}\
.card b{display:block;font-size:1.6em}small{color:#666}code{font-size:.92em}";

/// Write the report as one HTML page.
pub fn write_html(r: &Report, title: &str, w: &mut dyn Write) -> io::Result<()> {
    w.write_all(head(r, title).into_string().as_bytes())?;
    w.write_all(
        html! {
            h2 { "Grant changes" }
            p { small { "Unapproved first." } }
        }
        .into_string()
        .as_bytes(),
    )?;
    // The table is opened and closed around rows written one by one.
    w.write_all(b"<table id=\"changes\"><thead><tr><th>Verdict</th><th>Time</th><th>Account</th><th>Resource</th><th>Event</th><th>Actor</th><th>Outside parties</th><th>Approved by</th><th>Ticket</th><th>Action</th><th>Outcome</th><th>Source</th></tr></thead><tbody>")?;
    for c in r.ordered() {
        w.write_all(change_row(c).into_string().as_bytes())?;
    }
    w.write_all(b"</tbody></table>")?;
    w.write_all(tail(r).into_string().as_bytes())?;
    w.write_all(b"</body></html>\n")
}

/// The page's head, the counts, and who trusts whom (picture and table).
fn head(r: &Report, title: &str) -> Markup {
    let edges = r.edges();
    let period = r.period();
    html! {
        (DOCTYPE)
        // Left open: the rows and the tail follow, written as they are made.
        (maud::PreEscaped("<html lang=\"en\">"))
        head {
            meta charset="utf-8";
            meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'";
            title { (title) }
            style { (maud::PreEscaped(STYLE)) }
        }
        (maud::PreEscaped("<body>"))
        h1 { (title) }
        p id="period" {
            "Period: "
            b {
                @match period {
                    Some((lo, hi)) => { (lo) " to " (hi) },
                    None => { "no events" }
                }
            }
            ". Accounts: " b { (r.accounts().len()) }
            ". Read " (r.inputs.files_read) " file(s), " (r.inputs.records) " CloudTrail record(s)."
        }
        div class="cards" id="counts" {
            div class="card" data-count="changes" { b { (r.changes.len()) } "grant changes" }
            @for v in VERDICTS {
                div class={ "card " (verdict_str(v)) } data-count=(verdict_str(v)) {
                    b { (r.count(v)) } (verdict_str(v))
                }
            }
        }
        h2 { "Who trusts whom" }
        p { small { "An arrow runs from the account that owns a resource to the outside party its policy lets in: red where any grant is unapproved, green approved, grey dashed reported only." } }
        (picture(&edges))
        table id="pairs" {
            thead { tr { th { "Owner" } th { "Outside party" } th { "Approved" } th { "Unapproved" } th { "Warning" } } }
            tbody {
                @for ((o, p), e) in &edges {
                    tr class=(if e.unapproved > 0 { "violation" } else { "compliant" }) {
                        td { code { (o) } } td { code { (p) } }
                        td class="n" { (e.approved) } td class="n" { (e.unapproved) } td class="n" { (e.warning) }
                    }
                }
            }
        }
    }
}

/// One grant change; ignored and error rows say why in the parties' place.
fn change_row(c: &Change) -> Markup {
    let v = verdict_str(c.verdict);
    html! {
        tr class=(v) data-event-id=(c.event_id.as_deref().unwrap_or("")) {
            td { span class="badge" { (v) } }
            td { (or_dash(&c.time)) }
            td { code { (or_dash(&c.account)) } }
            td { (or_dash(&c.kind)) "/" (or_dash(&c.resource)) }
            td { (or_dash(&c.event_name)) }
            td { code { (or_dash(&c.actor)) } }
            td {
                @if c.grantees.is_empty() {
                    small { (c.reason) }
                } @else {
                    @for (n, g) in c.grantees.iter().enumerate() {
                        @if n > 0 { br; }
                        code { (g.party) } " " (g.standing.as_str())
                    }
                }
            }
            td { (pairings(c)) }
            td { (tickets(c)) }
            td { (c.action) }
            td { (or_dash(&c.outcome)) }
            td { small { (c.sources.join("; ")) } }
        }
    }
}

/// Actors, and what was read and skipped.
fn tail(r: &Report) -> Markup {
    let i = &r.inputs;
    html! {
        h2 { "Actors" }
        table id="actors" {
            thead { tr { th { "Actor" } th { "Changes" } th { "Violations" } } }
            tbody {
                @for (a, n, x) in r.actors() {
                    tr { td { code { (a) } } td class="n" { (n) } td class="n" { (x) } }
                }
            }
        }
        h2 { "Inputs" }
        p {
            (i.files_read) " file(s) read, " (i.passed_over) " passed over by path"
            @if i.folders_passed_over > 0 {
                " (and " (i.folders_passed_over) " S3 folder(s) never listed)"
            }
            "; "
            (i.records) " record(s), " (i.irrelevant) " irrelevant, " (i.filtered)
            " outside the filters, " (i.duplicates) " duplicate(s); " (i.unfinished_claims)
            " unfinished guard claim(s)."
        }
        table id="skipped" {
            thead { tr { th { "Skipped input" } th { "Why" } } }
            tbody {
                @for s in &i.skipped {
                    tr class="error" { td { code { (s.source) } } td { (s.reason) } }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::testing::{decision, finding};
    use crossguard_engine::report::Origin;
    use serde_json::json;

    #[test]
    fn html_escapes_and_orders_unapproved_first() {
        let mut r = Report::default();
        r.add(Change::from_decision(
            &decision("ok", "compliant", json!([finding("111111111111", true)])),
            Origin::CloudTrail,
            "f",
            None,
        ));
        let mut bad = decision("bad", "violation", json!([finding("*", false)]));
        bad["event"]["time"] = json!("2026-12-01T00:00:00Z");
        r.add(Change::from_decision(&bad, Origin::CloudTrail, "<f>", None));
        let mut out = Vec::new();
        write_html(&r, "t", &mut out).unwrap();
        let html = String::from_utf8(out).unwrap();
        assert!(!html.contains("<alice>") && html.contains("&lt;alice&gt;"));
        assert!(!html.contains("<script"));
        let bad_at = html.find("data-event-id=\"bad\"").unwrap();
        let ok_at = html.find("data-event-id=\"ok\"").unwrap();
        assert!(bad_at < ok_at);
        assert!(html.contains("class=\"edge unapproved\""));
    }
}
