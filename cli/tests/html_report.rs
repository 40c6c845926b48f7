//! The HTML report in a real browser: Debian's chromium, headless, loads the page
//! `replay --format html` wrote; its DOM holds the expected tables and rows (unapproved
//! first), and a screenshot shows a rendered page, not a blank one.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

mod common;

use common::archive::{generate, scratch, Spec};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_crossguard");

fn chromium() -> PathBuf {
    let path = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        path.exists(),
        "{} not found: `make chromium` installs Debian's chromium (or set CHROMIUM)",
        path.display()
    );
    path
}

/// Run headless chromium on a local file with `extra` flags; its stdout.
fn browse(page: &Path, profile: &Path, extra: &[&str]) -> String {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-extensions",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("running chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `<tr …>` openings inside the table with this id.
fn rows<'a>(dom: &'a str, table: &str) -> Vec<&'a str> {
    let start = dom
        .find(&format!("<table id=\"{table}\">"))
        .unwrap_or_else(|| panic!("no table {table}"));
    let body = &dom[start..];
    let body = &body[body.find("<tbody>").unwrap()..body.find("</table>").unwrap()];
    body.split("<tr")
        .skip(1)
        .map(|r| &r[..r.find('>').unwrap()])
        .collect()
}

#[test]
fn the_html_report_renders_in_chromium_with_every_change() {
    let dir = scratch("html");
    let spec = Spec {
        accounts: 2,
        days: 2,
        files_per_day: 1,
        records_per_file: 120,
        guarded_every: 8,
    };
    let e = generate(&dir, spec);
    std::fs::write(dir.join("broken.json"), b"{\"Records\": [").unwrap();
    let out = Command::new(BIN)
        .args(["replay", "--format", "html", "--as-of", "2026-06-01"])
        .args(["--title", "Audit <Q1>"])
        .arg("--allowlist")
        .arg(common::archive::root().join("examples/allowlist.toml"))
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a skipped file fails the run");
    let page = dir.join("report.html");
    std::fs::write(&page, &out.stdout).unwrap();
    let text = Command::new(BIN)
        .args(["replay", "--as-of", "2026-06-01", "--allowlist"])
        .arg(common::archive::root().join("examples/allowlist.toml"))
        .arg(&dir)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout).into_owned();
    let edges = text
        .lines()
        .filter(|l| l.starts_with("  ") && l.contains(" -> "))
        .count();

    let profile = dir.join("chromium-profile");
    let dom = browse(&page, &profile, &["--dump-dom"]);
    assert!(
        dom.contains("<title>Audit &lt;Q1&gt;</title>"),
        "title escaped"
    );

    let changes = rows(&dom, "changes");
    assert_eq!(changes.len() as u64, e.guarded);
    let class = |r: &str| r.split('"').nth(1).unwrap_or("").to_string();
    let order: Vec<String> = changes.iter().map(|r| class(r)).collect();
    assert_eq!(
        order.iter().filter(|c| *c == "violation").count() as u64,
        e.violation
    );
    assert_eq!(
        order.iter().filter(|c| *c == "compliant").count() as u64,
        e.compliant
    );
    assert_eq!(
        order.iter().filter(|c| *c == "ignored").count() as u64,
        e.ignored
    );
    let last_violation = order.iter().rposition(|c| c == "violation").unwrap();
    let first_other = order.iter().position(|c| c != "violation").unwrap();
    assert!(last_violation < first_other, "unapproved first: {order:?}");

    assert_eq!(rows(&dom, "pairs").len(), edges);
    assert_eq!(rows(&dom, "skipped").len(), 1);
    assert!(dom.contains("class=\"edge unapproved\""));
    assert!(dom.contains("class=\"edge approved\""));
    assert!(dom.contains(&format!("data-count=\"violation\"><b>{}</b>", e.violation)));

    // Rendered: the report's screenshot carries far more than a blank page's.
    let shot = dir.join("report.png");
    let blank = dir.join("blank.html");
    std::fs::write(&blank, "<!DOCTYPE html><html><body></body></html>").unwrap();
    let blank_shot = dir.join("blank.png");
    for (p, s) in [(&page, &shot), (&blank, &blank_shot)] {
        browse(
            p,
            &profile,
            &[
                "--window-size=1280,1600",
                &format!("--screenshot={}", s.display()),
            ],
        );
    }
    let (report, empty) = (
        std::fs::metadata(&shot).unwrap().len(),
        std::fs::metadata(&blank_shot).unwrap().len(),
    );
    assert!(std::fs::read(&shot).unwrap().starts_with(b"\x89PNG"));
    assert!(
        report > 10 * empty,
        "report {report} bytes, blank page {empty}"
    );
}
