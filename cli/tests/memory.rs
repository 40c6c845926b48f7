//! Memory stays flat however many decisions an input gives: `event` prints each decision
//! as it is made and reads a log file a record at a time; `replay` streams a file's rows
//! to the output in bounded chunks. Each run's peak resident memory is held to a bound
//! well under what keeping every decision (about 10 KB each here) would take.

// Scenarios read top to bottom, helpers take values as written, sizes are small: the
// workspace's length and cast lints are for the product code.
#![allow(
    clippy::too_many_lines,
    clippy::needless_pass_by_value,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap
)]

mod common;

use common::archive::{self, generate, scratch, Spec};
use common::peak_memory;
use serde_json::Value;

const MIB: u64 = 1 << 20;

fn allowlist() -> String {
    archive::root()
        .join("examples/allowlist.toml")
        .to_string_lossy()
        .into_owned()
}

/// One log file of `n` guarded records, every one a decision.
const DENSE: Spec = Spec {
    accounts: 1,
    days: 1,
    files_per_day: 1,
    records_per_file: 20_000,
    guarded_every: 1,
};

#[test]
fn replay_memory_stays_flat_on_a_dense_file() {
    let dir = scratch("memory-replay");
    let e = generate(&dir, DENSE);
    let al = allowlist();
    let file = e.paths[0].to_string_lossy().into_owned();
    let (code, out, err, peak) = peak_memory(&[
        "replay",
        "--allowlist",
        &al,
        "--as-of",
        "2026-06-01",
        "--format",
        "json",
        &file,
    ]);
    assert_eq!(code, Some(1), "{err}");
    let text = e.uncompressed_bytes;
    // The rows written: what a whole-file batch would have held, and more.
    assert!(out as u64 > text, "{out} bytes of rows from {text}");
    // The file's text, its records delimited, and a few chunks of rows in flight.
    let bound = 2 * text + 64 * MIB;
    assert!(
        peak < bound,
        "replay peaked at {} MiB for a {} MiB file ({} rows, {} MiB written; bound {} MiB)",
        peak / MIB,
        text / MIB,
        e.guarded,
        out / MIB as usize,
        bound / MIB
    );
}

#[test]
fn event_memory_stays_flat_on_a_large_log_file() {
    let dir = scratch("memory-event");
    let e = generate(&dir, DENSE);
    // The same records, as a plain log file given to `crossguard event`.
    let gz = std::fs::read(&e.paths[0]).unwrap();
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&gz[..]), &mut text).unwrap();
    let log: Value = serde_json::from_slice(&text).unwrap();
    assert_eq!(log["Records"].as_array().unwrap().len() as u64, e.records);
    let file = dir.join("log.json");
    std::fs::write(&file, &text).unwrap();
    let al = allowlist();
    let file = file.to_string_lossy().into_owned();
    let (code, out, err, peak) = peak_memory(&[
        "event",
        "--allowlist",
        &al,
        "--as-of",
        "2026-06-01",
        "--format",
        "json",
        &file,
    ]);
    assert_eq!(code, Some(1), "{err}");
    let size = text.len() as u64;
    assert!(out as u64 > size, "{out} bytes of decisions from {size}");
    // The file's text and one record at a time (a parsed whole log is several times
    // its text; every decision kept, more again).
    let bound = 2 * size + 48 * MIB;
    assert!(
        peak < bound,
        "event peaked at {} MiB for a {} MiB log ({} records; bound {} MiB)",
        peak / MIB,
        size / MIB,
        e.records,
        bound / MIB
    );
}
