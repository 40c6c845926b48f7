//! The text summary.

use super::{or_dash, parties, VERDICTS};
use crossguard_engine::decision::Verdict;
use crossguard_engine::report::{verdict_str, Change, Report, Standing};
use std::io::{self, Write};

/// One line of the text report, with every control character escaped: a value (an
/// actor, a bucket name, a reason quoting the policy) that holds a newline or an escape
/// sequence is shown, and can neither forge a line nor drive the terminal.
macro_rules! line {
    ($w:expr, $($arg:tt)*) => {
        writeln!($w, "{}", crossguard_engine::render::escape_controls(&format!($($arg)*)))
    };
}

/// The text summary: what was read, verdict counts, who trusts whom, actors, every
/// violation and error, and what was skipped.
pub fn write_text(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let i = &r.inputs;
    if i.scanned > 0 && i.files_read == 0 {
        line!(w, "scanned {} resource(s)", i.scanned)?;
    } else {
        line!(
            w,
            "read {} file(s) ({} passed over by path{}), {} CloudTrail record(s): {} grant change(s), {} irrelevant, {} outside the filters, {} duplicate(s)",
            i.files_read,
            i.passed_over,
            if i.folders_passed_over > 0 {
                format!(", {} S3 folder(s) never listed", i.folders_passed_over)
            } else {
                String::new()
            },
            i.records,
            r.changes.len(),
            i.irrelevant,
            i.filtered,
            i.duplicates
        )?;
    }
    if let Some((lo, hi)) = r.period() {
        line!(w, "period: {lo} .. {hi}")?;
    }
    let counts: Vec<String> = VERDICTS
        .iter()
        .map(|&v| format!("{} {}", verdict_str(v), r.count(v)))
        .collect();
    line!(w, "verdicts: {}", counts.join(", "))?;
    let edges = r.edges();
    if !edges.is_empty() {
        writeln!(w)?;
        line!(
            w,
            "who trusts whom (owner -> outside party: approved / unapproved / warning):"
        )?;
        for ((owner, party), e) in &edges {
            line!(
                w,
                "  {owner} -> {party}: {} / {} / {}",
                e.approved,
                e.unapproved,
                e.warning
            )?;
        }
    }
    let actors = r.actors();
    if !actors.is_empty() {
        writeln!(w)?;
        line!(w, "actors (changes, violations):")?;
        for (a, n, x) in &actors {
            line!(w, "  {a}: {n}, {x}")?;
        }
    }
    violations(r, w)?;
    if i.unfinished_claims > 0 {
        writeln!(w)?;
        line!(
            w,
            "{} guard claim record(s) without a finished decision (handler still running or died)",
            i.unfinished_claims
        )?;
    }
    if !i.skipped.is_empty() {
        writeln!(w)?;
        line!(w, "skipped ({}):", i.skipped.len())?;
        for s in &i.skipped {
            line!(w, "  {}: {}", s.source, s.reason)?;
        }
    }
    Ok(())
}

/// Every violation and error, one line each, unapproved first.
fn violations(r: &Report, w: &mut dyn Write) -> io::Result<()> {
    let bad: Vec<&Change> = r
        .ordered()
        .into_iter()
        .filter(|c| matches!(c.verdict, Verdict::Violation | Verdict::Error))
        .collect();
    if !bad.is_empty() {
        writeln!(w)?;
        line!(w, "violations and errors:")?;
        for c in bad {
            line!(
                w,
                "  {} {} {} {}/{} by {}: {}{}",
                or_dash(&c.time),
                verdict_str(c.verdict),
                or_dash(&c.account),
                or_dash(&c.kind),
                or_dash(&c.resource),
                or_dash(&c.actor),
                match parties(c, Standing::Unapproved) {
                    p if p.is_empty() => c.reason.clone(),
                    p => format!("lets in {p}"),
                },
                c.outcome
                    .as_deref()
                    .map(|o| format!(" [{o}]"))
                    .unwrap_or_default()
            )?;
        }
    }
    Ok(())
}
