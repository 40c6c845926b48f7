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

/// What gzip's size field (ISIZE, the last four bytes) says: the last member's size
/// unzipped, modulo 4 GiB. A hint, never to be trusted: a member appended, or a field
/// written falsely, makes it anything.
pub fn gzip_size_field(gz: &[u8]) -> Option<u64> {
    // Ten bytes of header and eight of trailer at the least.
    let field = gz.last_chunk::<4>().filter(|_| gz.len() >= 18)?;
    Some(u64::from(u32::from_le_bytes(*field)))
}

/// Gzip bytes unzipped, refused past `limit` bytes.
pub fn unzip(gz: &[u8], limit: u64) -> Result<Vec<u8>, Fault> {
    let mut out = Vec::new();
    let n = unzip_into(gz, limit, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// [`unzip`] into `room`, reused: the text is `room[..n]`, `n` returned. Bytes already
/// in `room` are written over, never zeroed first (a fresh buffer per file costs fresh
/// pages, and zeroing, as large as the text); it grows only when the text is larger.
pub fn unzip_into(gz: &[u8], limit: u64, room: &mut Vec<u8>) -> Result<usize, Fault> {
    // Read at most `limit + 1` bytes: one more than allowed tells "too large" from
    // "exactly the limit". Never more room than that: an allocation that fails aborts.
    let most = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    // Room for the text as gzip's size field has it (and the byte that tells the end), or
    // eight times the gzip when that is more: made at once, not grown (growing copies).
    // The field is believed only as far as deflate can go (1032 to 1): a field that lies
    // makes no more room than a real file of that size would need.
    let said = gzip_size_field(gz)
        .map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX))
        .min(gz.len().saturating_mul(1032));
    let mut want = said.saturating_add(1).max(gz.len().saturating_mul(8));
    let mut unzip = flate2::read::MultiGzDecoder::new(gz);
    let mut n = 0;
    while n < most {
        if n == room.len() {
            want = want.max(room.len().saturating_mul(2)).min(most);
            room.resize(want.max(n + 1), 0);
        }
        let end = room.len().min(most);
        match unzip.read(&mut room[n..end]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Fault::Gzip(e)),
        }
    }
    if n as u64 > limit {
        return Err(Fault::UnzipsTooLarge);
    }
    Ok(n)
}

/// A file or stdin (`-`), gunzipped when it is gzip, as UTF-8 text. Anything larger than
/// `limit` bytes, as stored or once unzipped, is refused whole: a cut input would be
/// decided (or validated) on its first part only.
pub fn read_input(name: &str, limit: u64) -> Result<String> {
    // The name as messages show it, made only for a message: `check` reads thousands.
    let shown = || excerpt(name);
    let raw = if name == "-" {
        read_whole(io::stdin().lock(), None, limit)
    } else {
        let file = std::fs::File::open(name).with_context(|| format!("cannot open {}", shown()))?;
        read_file(file, limit).and_then(|raw| unzipped(raw, limit))
    };
    let raw = match raw {
        Ok(raw) => raw,
        Err(Fault::TooLarge(Some(n))) => bail!(
            "{} is larger than {} MiB ({n} bytes; the limit): refused whole",
            shown(),
            mib(limit)
        ),
        Err(Fault::TooLarge(None)) => bail!(
            "{} is larger than {} MiB (the limit): refused whole",
            shown(),
            mib(limit)
        ),
        Err(Fault::UnzipsTooLarge) => bail!(
            "{} unzips to more than {} MiB (the limit): refused whole",
            shown(),
            mib(limit)
        ),
        Err(Fault::Io(e)) if name == "-" => return Err(e).context("cannot read stdin"),
        Err(Fault::Io(e)) => return Err(e).with_context(|| format!("cannot read {}", shown())),
        Err(Fault::Gzip(e)) => {
            return Err(e).with_context(|| format!("{} is not valid gzip", shown()))
        }
    };
    String::from_utf8(raw).with_context(|| format!("{} is not UTF-8 text", shown()))
}

/// A file's bytes, or nothing past `limit`. Its size is asked of the file system only
/// when the first read shows it large, so a large regular file is still refused after
/// [`FIRST_READ`] bytes, and the many small policies `check` reads cost one call less
/// each (open, read, read, close).
fn read_file(mut file: std::fs::File, limit: u64) -> Result<Vec<u8>, Fault> {
    let first = u64::try_from(FIRST_READ)
        .unwrap_or(u64::MAX)
        .min(limit.saturating_add(1));
    let mut raw = Vec::with_capacity(usize::try_from(first).unwrap_or(FIRST_READ));
    (&mut file)
        .take(first)
        .read_to_end(&mut raw)
        .map_err(Fault::Io)?;
    if (raw.len() as u64) < first {
        return Ok(raw);
    }
    let size = file
        .metadata()
        .ok()
        .filter(std::fs::Metadata::is_file)
        .map(|m| m.len());
    if let Some(n) = size.filter(|n| *n > limit) {
        return Err(Fault::TooLarge(Some(n)));
    }
    let more = size.map_or(0, |n| n.saturating_sub(raw.len() as u64).saturating_add(1));
    raw.reserve(usize::try_from(more.min(limit)).unwrap_or(0));
    let left = limit - (raw.len() as u64).min(limit);
    read_capped(file, left, &mut raw).map_err(Fault::Io)?;
    if raw.len() as u64 > limit {
        return Err(Fault::TooLarge(None));
    }
    Ok(raw)
}

/// What [`read_file`] reads before it asks a file's size: more than most policies.
const FIRST_READ: usize = 16 * 1024;

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
    use crate::testing::gzip;

    /// A file is read whole at every size about the first read's and the limit's, and
    /// refused with its size past the limit, as when its size was asked first.
    #[test]
    fn a_file_is_read_whole_or_refused_with_its_size_at_every_boundary() {
        let dir = std::env::temp_dir().join(format!("crossguard-read-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = FIRST_READ;
        for size in [0, 1, f - 1, f, f + 1, 2 * f + 7] {
            let bytes: Vec<u8> = (0..size).map(|i| u8::try_from(i % 251).unwrap()).collect();
            let path = dir.join(format!("{size}"));
            std::fs::write(&path, &bytes).unwrap();
            for limit in [
                0,
                1,
                f - 1,
                f,
                f + 1,
                size.saturating_sub(1),
                size,
                size + 1,
                1 << 20,
            ] {
                let open = || std::fs::File::open(&path).unwrap();
                let got = read_file(open(), limit as u64);
                let want = read_stored(open(), Some(size as u64), limit as u64);
                match (got, want) {
                    (Ok(got), Ok(want)) => {
                        assert_eq!(got, want, "{size} bytes, limit {limit}");
                        assert_eq!(got, bytes);
                    }
                    (Err(Fault::TooLarge(Some(a))), Err(Fault::TooLarge(Some(b)))) => {
                        assert_eq!((a, b), (size as u64, size as u64), "limit {limit}");
                    }
                    (got, want) => panic!("{size} bytes, limit {limit}: {got:?} vs {want:?}"),
                }
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Into a room kept from file to file, whatever it held and however large, a text
    /// unzips as `read_to_end` would read it: the same bytes, the limit at the same
    /// place, the same faults; the size field only a hint (small, large, or false).
    #[test]
    fn unzipped_into_a_kept_room_as_read_whole() {
        let text: Vec<u8> = (0..50_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect();
        let mut lies_small = gzip(&[&text]);
        let n = lies_small.len();
        lies_small[n - 4..].copy_from_slice(&3u32.to_le_bytes());
        let mut lies_large = gzip(&[&text]);
        lies_large[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        let cases = [
            gzip(&[&text]),
            gzip(&[&text[..7], &text[7..], b""]),
            lies_small,
            lies_large,
            gzip(&[b""]),
        ];
        let len = text.len() as u64;
        for room_was in [0, 1, 100, text.len() - 1, text.len() + 1, 3 * text.len()] {
            let mut room = vec![0xee; room_was];
            for gz in &cases {
                for limit in [0, 1, len / 2, len - 1, len, len + 1, u64::MAX >> 1] {
                    let mut whole = Vec::new();
                    let read = read_capped(
                        flate2::read::MultiGzDecoder::new(&gz[..]),
                        limit,
                        &mut whole,
                    );
                    let into = unzip_into(gz, limit, &mut room);
                    if read.is_err() {
                        // A size field that lies is found out by the trailer's check.
                        assert!(matches!(into, Err(Fault::Gzip(_))), "{limit}");
                    } else if whole.len() as u64 > limit {
                        assert!(matches!(into, Err(Fault::UnzipsTooLarge)), "{limit}");
                    } else {
                        let n = into.unwrap_or_else(|e| panic!("{e:?}"));
                        assert_eq!(room[..n], whole[..], "{limit} {room_was}");
                    }
                }
            }
        }
        let mut cut = gzip(&[&text]);
        cut.truncate(cut.len() - 9);
        assert!(matches!(
            unzip_into(&cut, u64::MAX >> 1, &mut Vec::new()),
            Err(Fault::Gzip(_))
        ));
    }

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
