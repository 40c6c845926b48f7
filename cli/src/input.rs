//! Reading an input whole or not at all, and text made safe to echo.

use anyhow::{bail, Context, Result};
use crossguard_engine::render::escape_controls;
use std::borrow::Cow;
use std::io::{self, Read};

/// Largest input read (policy, event, allowlist; after gunzip): CloudTrail log files run
/// to tens of megabytes; nothing crossguard reads legitimately comes near this.
pub const MAX_READ: u64 = 512 << 20;

/// Longest value echoed in a message, in characters: values are attacker-chosen and may
/// run to megabytes.
const MAX_ECHO: usize = 100;

/// Longest message line, in characters, whatever it quotes.
const MAX_LINE: usize = 1_000;

fn mib(limit: u64) -> u64 {
    limit >> 20
}

/// Why an input was not read whole. Each caller words it for its own messages.
#[derive(Debug)]
pub enum Fault {
    /// Over the limit: as stored (its size, when known before reading) …
    TooLarge(Option<u64>),
    /// … or once unzipped.
    UnzipsTooLarge,
    /// Reading failed.
    Io(io::Error),
    /// The gzip stream is corrupt or cut short.
    Gzip(io::Error),
}

/// Everything `r` holds, gunzipped when it is gzip, or nothing: past `limit` bytes (as
/// stored or once unzipped) the input is refused whole. `size` is the stored size when
/// known: an input over the limit is then refused without reading a byte.
pub fn read_whole(r: impl Read, size: Option<u64>, limit: u64) -> Result<Vec<u8>, Fault> {
    unzipped(read_stored(r, size, limit)?, limit)
}

/// Everything `r` holds as stored (gzip left as it is), or nothing past `limit` bytes.
/// `size` is the stored size when known: an input over the limit is then refused
/// without reading a byte.
pub fn read_stored(r: impl Read, size: Option<u64>, limit: u64) -> Result<Vec<u8>, Fault> {
    if let Some(n) = size.filter(|n| *n > limit) {
        return Err(Fault::TooLarge(Some(n)));
    }
    // Room for the whole file and one byte more: read in one call, not in the doubling
    // probes `read_to_end` makes from an empty buffer (seven reads for a 600-byte policy).
    let room = size.map_or(0, |n| usize::try_from(n.min(limit)).unwrap_or(0) + 1);
    let mut raw = Vec::with_capacity(room);
    read_capped(r, limit, &mut raw).map_err(Fault::Io)?;
    if raw.len() as u64 > limit {
        return Err(Fault::TooLarge(None));
    }
    Ok(raw)
}

/// Bytes already held, gunzipped when they are gzip (refused past `limit` once unzipped).
pub fn unzipped(raw: Vec<u8>, limit: u64) -> Result<Vec<u8>, Fault> {
    if !is_gzip(&raw) {
        return Ok(raw);
    }
    unzip(&raw, limit)
}

/// Do these bytes start as gzip does (its two magic bytes)?
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Gzip bytes unzipped, refused past `limit` bytes.
pub fn unzip(gz: &[u8], limit: u64) -> Result<Vec<u8>, Fault> {
    // A guess at the text's size, never past the limit: an allocation that fails aborts.
    let room = gz.len().saturating_mul(8).min(
        usize::try_from(limit)
            .unwrap_or(usize::MAX)
            .saturating_add(1),
    );
    let mut out = Vec::with_capacity(room);
    read_capped(flate2::read::MultiGzDecoder::new(gz), limit, &mut out).map_err(Fault::Gzip)?;
    if out.len() as u64 > limit {
        return Err(Fault::UnzipsTooLarge);
    }
    Ok(out)
}

/// A file or stdin (`-`), gunzipped when it is gzip, as UTF-8 text. Anything larger than
/// `limit` bytes, as stored or once unzipped, is refused whole: a cut input would be
/// decided (or validated) on its first part only.
pub fn read_input(name: &str, limit: u64) -> Result<String> {
    let shown = excerpt(name);
    let raw = if name == "-" {
        read_whole(io::stdin().lock(), None, limit)
    } else {
        let file = std::fs::File::open(name).with_context(|| format!("cannot open {shown}"))?;
        // A regular file's size is known: refuse it without reading a byte.
        let size = file
            .metadata()
            .ok()
            .filter(std::fs::Metadata::is_file)
            .map(|m| m.len());
        read_whole(file, size, limit)
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(Fault::TooLarge(Some(n))) => bail!(
            "{shown} is larger than {} MiB ({n} bytes; the limit): refused whole",
            mib(limit)
        ),
        Err(Fault::TooLarge(None)) => bail!(
            "{shown} is larger than {} MiB (the limit): refused whole",
            mib(limit)
        ),
        Err(Fault::UnzipsTooLarge) => bail!(
            "{shown} unzips to more than {} MiB (the limit): refused whole",
            mib(limit)
        ),
        Err(Fault::Io(e)) if name == "-" => return Err(e).context("cannot read stdin"),
        Err(Fault::Io(e)) => return Err(e).with_context(|| format!("cannot read {shown}")),
        Err(Fault::Gzip(e)) => return Err(e).with_context(|| format!("{shown} is not valid gzip")),
    };
    String::from_utf8(raw).with_context(|| format!("{shown} is not UTF-8 text"))
}

/// Read at most `limit + 1` bytes: one more than allowed tells "too large" from "exactly
/// the limit".
fn read_capped(r: impl Read, limit: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    r.take(limit.saturating_add(1)).read_to_end(buf).map(|_| ())
}

/// A value for a message: control characters escaped, cut to [`MAX_ECHO`] characters.
pub fn excerpt(s: &str) -> String {
    let cut: String = s.chars().take(MAX_ECHO).collect();
    let more = if cut.len() < s.len() { "…" } else { "" };
    format!("{}{more}", escape_controls(&cut))
}

/// A message line as shown on stderr: one line, control characters escaped, every quoted
/// value (`"…"`) cut to [`MAX_ECHO`] characters and the whole to [`MAX_LINE`]. Messages
/// from the engine quote what they found, which may be megabytes long.
pub fn one_line(msg: &str) -> String {
    let flat: Cow<str> = if msg.contains(['\n', '\r']) {
        Cow::Owned(msg.replace("\r\n", " ").replace(['\n', '\r'], " "))
    } else {
        Cow::Borrowed(msg)
    };
    let mut out = String::with_capacity(flat.len().min(MAX_LINE + 16));
    let mut chars = flat.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c != '"' {
            continue;
        }
        // A quoted value: keep its first MAX_ECHO characters, skip to its closing quote.
        let mut kept = 0;
        let mut escaped = false;
        let mut cut = false;
        let mut closed = false;
        for c in chars.by_ref() {
            closed = c == '"' && !escaped;
            escaped = c == '\\' && !escaped;
            if closed {
                break;
            }
            if kept < MAX_ECHO {
                out.push(c);
                kept += 1;
            } else {
                cut = true;
            }
        }
        if cut {
            out.push('…');
        }
        if closed {
            out.push('"');
        }
    }
    let total = out.chars().count();
    let mut shown: String = if total > MAX_LINE {
        let mut s: String = out.chars().take(MAX_LINE).collect();
        s.push('…');
        s
    } else {
        out
    };
    if let Cow::Owned(escaped) = escape_controls(&shown) {
        shown = escaped;
    }
    shown
}

/// Write one line to stderr. A closed stderr is not worth a panic: the exit status
/// still tells.
pub fn warn(line: &str) {
    use std::io::Write;
    let _ = writeln!(io::stderr().lock(), "{}", one_line(line));
}

/// Whether an error comes from a closed stdout (`crossguard … | head -1`): the reader
/// left, nothing is wrong with the input.
pub fn broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_quoted_values_are_cut() {
        let long = "x".repeat(5_000);
        let line = one_line(&format!("principal \"{long}\" is \"odd\"\nsecond\u{1b}"));
        assert_eq!(
            line,
            format!(
                "principal \"{}…\" is \"odd\" second\\u{{1b}}",
                "x".repeat(100)
            )
        );
        let unquoted = one_line(&"y".repeat(5_000));
        assert_eq!(unquoted.chars().count(), MAX_LINE + 1);
        assert_eq!(excerpt("ab\u{7}"), "ab\\u{7}");
        assert_eq!(excerpt(&long).chars().count(), MAX_ECHO + 1);
    }
}
