//! What the unit tests share: the example allowlist, a fixed day to judge by, the
//! example records, gzip, and random mutation of texts.

use crossguard_engine::{Allowlist, Date, Options};

/// The repository's example allowlist (`examples/allowlist.toml`), as the examples were
/// written to be judged by it, and options fixed on 2026-06-01 (expiries stay put).
pub fn examples() -> (Allowlist, Options) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/allowlist.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let allowlist = Allowlist::from_toml(&text, "allowlist.toml").unwrap();
    let opts = Options {
        today: Date::new(2026, 6, 1).unwrap(),
        mode: None,
    };
    (allowlist, opts)
}

/// Each of `members` gzipped, one after another (a file of several members).
pub fn gzip(members: &[&[u8]]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    for m in members {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(m).unwrap();
        out.extend(gz.finish().unwrap());
    }
    out
}

/// The example events' records (each guarded call, decided), an irrelevant call and
/// a record with a duplicate key (an error row), as log-file records.
pub fn records() -> Vec<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/events");
    let mut paths: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    let mut out: Vec<String> = paths
        .iter()
        .map(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            v["detail"].to_string()
        })
        .collect();
    out.push(r#"{"eventName":"GetObject","eventSource":"s3.amazonaws.com"}"#.into());
    out.push(
        r#"{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","eventSource":"s3.amazonaws.com"}"#
            .into(),
    );
    out
}

/// A small deterministic generator (xorshift): a number below `n`.
pub fn random(mut seed: u64) -> impl FnMut(usize) -> usize {
    move |n| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        usize::try_from(seed % n.max(1) as u64).unwrap()
    }
}

/// Pieces the mutations insert: JSON's structure, escapes and literals, bad bytes,
/// control characters, a BOM, the keys that matter.
pub const PIECES: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\"",
    b"\\",
    b"u",
    b"0",
    b"1",
    b"9",
    b"-",
    b".",
    b"e",
    b"E",
    b"+",
    b"n",
    b"null",
    b"true",
    b"f",
    b" ",
    b"\n",
    b"\t",
    b"\r",
    b"\x00",
    b"\x1f",
    b"\x7f",
    "é".as_bytes(),
    "😀".as_bytes(),
    &[0xff],
    &[0xc3],
    &[0xed, 0xa0, 0x80],
    &[0xef, 0xbb, 0xbf],
    b"\\ud800",
    b"\\udc00",
    b"\\u0000",
    b"\"Records\"",
    b"\"schema\"",
    b"\"eventName\"",
    b"\"eventSource\"",
    b"Records",
    b"schema",
    b"x",
];

/// One to four random edits: a piece inserted or put in place of a byte, bytes
/// dropped, a stretch of the text repeated elsewhere.
pub fn mutate(t: &mut Vec<u8>, rnd: &mut impl FnMut(usize) -> usize) {
    for _ in 0..=rnd(3) {
        let at = rnd(t.len() + 1);
        match rnd(5) {
            0 | 1 => {
                let piece = PIECES[rnd(PIECES.len())];
                t.splice(at..at, piece.iter().copied());
            }
            2 if at < t.len() => {
                let end = (at + 1 + rnd(4)).min(t.len());
                t.drain(at..end);
            }
            3 if at < t.len() => {
                let piece = PIECES[rnd(PIECES.len())];
                t.splice(at..=at, piece.iter().copied());
            }
            _ => {
                let end = (at + rnd(30)).min(t.len());
                let stretch = t[at..end].to_vec();
                let to = rnd(t.len() + 1);
                t.splice(to..to, stretch);
            }
        }
    }
}
