//! A gzip log file too large to hold unzipped, decided from its gzip bytes in two
//! readings: the first checks all of it (gzip, size, UTF-8, JSON, every document a log
//! file) and keeps nothing, the second decides each record as it is read. A fault keeps
//! the rule that a faulty file is refused whole: only a file the first reading found
//! sound is decided this way, and anything else is unzipped whole and read as before.
//!
//! A dense file (every record a guarded call) unzips to some 45 times its gzip size:
//! held whole, a 13 MB file took 1 GB of memory. Read this way, a worker holds the gzip
//! bytes, a few 64 KiB buffers, one record (or one top-level key or string: serde_json
//! reads a string whole) and the rows not yet written.

use super::{Context, Rows, MAX_FILE};
use flate2::read::MultiGzDecoder;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess};
use serde::Deserialize;
use std::fmt;
use std::io::{self, BufReader, Read};

/// A gzip file that unzips to more than this is decided as a stream. Up to it, the text
/// is held whole (faster: read once, delimited in place).
pub(super) const STREAM_OVER: u64 = 64 << 20;

/// Buffer between the inflater and the reader (serde_json's, or the window's step).
const BUFFER: usize = 1 << 16;

/// Does `raw`'s gzip size field (ISIZE, the last four bytes: the last member's size,
/// modulo 4 GiB) say it unzips to more than `over` bytes? Only ever taken as "large":
/// a file it makes look small is unzipped up to the bound to find out.
pub(super) fn says_over(raw: &[u8], over: u64) -> bool {
    crate::input::gzip_size_field(raw).is_some_and(|n| n > over)
}

/// The first reading: how many documents `raw` unzips to, when it is sound and every
/// document is a log file (`{"Records": [...]}`); `None` for anything else.
pub(super) fn log_documents(raw: &[u8]) -> Option<usize> {
    let mut docs = 0;
    for doc in serde_json::Deserializer::from_reader(reader(raw)).into_iter::<LogShape>() {
        doc.ok()?;
        docs += 1;
    }
    (docs > 0).then_some(docs)
}

/// The second reading: each record of `docs` log documents decided as it is read.
pub(super) fn decide(
    ctx: &Context,
    rows: &mut Rows,
    raw: &[u8],
    docs: usize,
    source: &str,
) -> Result<(), String> {
    let mut text = Window::new(Checked::new(MultiGzDecoder::new(raw)));
    // The same bytes were read without fault a moment ago; were this to fail, the rows
    // sent before it stand, and the file is reported as not read whole.
    text.records(docs, &mut |record| {
        ctx.record(rows, record, super::fast::Call::Unknown, source);
        !rows.closed
    })
    .map_err(|e| format!("read differently the second time, after some rows: {e}"))
}

/// The second reading's text: a window over the unzipped stream, refilled as it is
/// scanned. Only text the first reading found sound (JSON, each document a log file) is
/// scanned, so the scanner follows JSON's structure without judging it: it delimits
/// records in place, where serde_json's stream reader would take a byte at a time. It
/// holds the record (or key) being read and a few buffers, never what it steps over.
struct Window<R> {
    inner: R,
    /// `buf[..end]` is text read and not let go of; the rest is room, zeroed once.
    buf: Vec<u8>,
    end: usize,
    /// Where the scan is, in `buf`.
    pos: usize,
    /// Where the record or key being read starts: kept when the window is refilled.
    keep: Option<usize>,
    done: bool,
}

fn unexpected() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        "not the text the first reading read",
    )
}

impl<R: Read> Window<R> {
    fn new(inner: R) -> Self {
        Window {
            inner,
            buf: Vec::new(),
            end: 0,
            pos: 0,
            keep: None,
            done: false,
        }
    }

    /// Each record of `docs` log documents, in order, to `each` (false from it: stop).
    fn records(&mut self, docs: usize, each: &mut dyn FnMut(&str) -> bool) -> io::Result<()> {
        for _ in 0..docs {
            self.expect(b'{')?;
            loop {
                match self.next_byte()? {
                    b'}' => break,
                    b',' => continue,
                    b'"' => {}
                    _ => return Err(unexpected()),
                }
                let records = self.key_is_records()?;
                self.expect(b':')?;
                if !records {
                    self.skip_value()?;
                    continue;
                }
                self.expect(b'[')?;
                loop {
                    if self.peek()? == b']' {
                        self.pos += 1;
                        break;
                    }
                    let (start, end) = self.kept_value()?;
                    let record = std::str::from_utf8(&self.buf[start..end])
                        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                    if !each(record) {
                        return Ok(());
                    }
                    if self.next_byte()? == b']' {
                        break;
                    }
                }
            }
        }
        Ok(())
    }

    /// Read more onto the end of the window, first letting go of what is scanned and
    /// not kept; false at the end of the text.
    fn more(&mut self) -> io::Result<bool> {
        if self.done {
            return Ok(false);
        }
        let from = self.keep.unwrap_or(self.pos);
        if from >= BUFFER {
            self.buf.copy_within(from..self.end, 0);
            self.end -= from;
            self.pos -= from;
            self.keep = self.keep.map(|k| k - from);
        }
        if self.buf.len() - self.end < BUFFER {
            self.buf.resize(self.end + BUFFER, 0);
        }
        let n = self.inner.read(&mut self.buf[self.end..])?;
        self.end += n;
        self.done = n == 0;
        Ok(n > 0)
    }

    /// The byte at `pos`, reading more when it is not in the window yet.
    fn at_pos(&mut self) -> io::Result<Option<u8>> {
        while self.pos >= self.end {
            if !self.more()? {
                return Ok(None);
            }
        }
        Ok(Some(self.buf[self.pos]))
    }

    /// The next byte that is not white space, not taken.
    fn peek(&mut self) -> io::Result<u8> {
        loop {
            match self.at_pos()? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                Some(b) => return Ok(b),
                None => return Err(unexpected()),
            }
        }
    }

    /// The next byte that is not white space, taken.
    fn next_byte(&mut self) -> io::Result<u8> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn expect(&mut self, want: u8) -> io::Result<()> {
        if self.next_byte()? == want {
            Ok(())
        } else {
            Err(unexpected())
        }
    }

    /// Past the string whose opening quote was taken.
    fn skip_string(&mut self) -> io::Result<()> {
        loop {
            match memchr::memchr2(b'"', b'\\', &self.buf[self.pos..self.end]) {
                Some(i) => {
                    let quote = self.buf[self.pos + i] == b'"';
                    self.pos += i + 1;
                    if quote {
                        return Ok(());
                    }
                    // An escape: the byte after the backslash is skipped (`\u`'s digits
                    // are plain bytes).
                    if self.at_pos()?.is_none() {
                        return Err(unexpected());
                    }
                    self.pos += 1;
                }
                None => {
                    self.pos = self.end;
                    if !self.more()? {
                        return Err(unexpected());
                    }
                }
            }
        }
    }

    /// A key whose opening quote was taken: is it `Records` (escapes read as JSON)?
    fn key_is_records(&mut self) -> io::Result<bool> {
        self.keep = Some(self.pos - 1);
        let skipped = self.skip_string();
        // Set above, and only ever moved by a refill: a start never guessed.
        let start = self.keep.take().ok_or_else(unexpected)?;
        skipped?;
        let key = &self.buf[start..self.pos];
        if !key.contains(&b'\\') {
            return Ok(key == b"\"Records\"");
        }
        serde_json::from_slice::<String>(key)
            .map(|k| k == "Records")
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    }

    /// Past the value that starts here (after white space), let go of as it is read.
    fn skip_value(&mut self) -> io::Result<()> {
        let first = self.peek()?;
        self.step_over(first)
    }

    /// Past the value that starts here (after white space), kept (a record): where it
    /// starts and ends in the window.
    fn kept_value(&mut self) -> io::Result<(usize, usize)> {
        let first = self.peek()?;
        self.keep = Some(self.pos);
        let stepped = self.step_over(first);
        // Set above, and only ever moved by a refill: a start never guessed.
        let start = self.keep.take().ok_or_else(unexpected)?;
        stepped?;
        Ok((start, self.pos))
    }

    /// Past the value whose first byte, `first`, is at `pos`.
    fn step_over(&mut self, first: u8) -> io::Result<()> {
        self.pos += 1;
        match first {
            b'"' => self.skip_string(),
            b'{' | b'[' => {
                let mut depth = 1usize;
                while depth > 0 {
                    let Some(b) = self.at_pos()? else {
                        return Err(unexpected());
                    };
                    self.pos += 1;
                    match b {
                        b'"' => self.skip_string()?,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => depth -= 1,
                        _ => {}
                    }
                }
                Ok(())
            }
            // A number or a literal: up to what follows it.
            _ => {
                while let Some(b) = self.at_pos()? {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\n' | b'\r' | b'\t') {
                        break;
                    }
                    self.pos += 1;
                }
                Ok(())
            }
        }
    }
}

/// The unzipped text as a checked stream.
fn reader(raw: &[u8]) -> BufReader<Checked<MultiGzDecoder<&[u8]>>> {
    BufReader::with_capacity(BUFFER, Checked::new(MultiGzDecoder::new(raw)))
}

/// A reader refused past [`MAX_FILE`] bytes, and at the first byte that is not UTF-8:
/// serde_json checks the strings it reads, not those it only steps over.
struct Checked<R> {
    inner: R,
    read: u64,
    /// An unfinished UTF-8 sequence at the end of the last read.
    carry: [u8; 4],
    carried: usize,
}

impl<R> Checked<R> {
    fn new(inner: R) -> Self {
        Checked {
            inner,
            read: 0,
            carry: [0; 4],
            carried: 0,
        }
    }

    fn check(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        let bad = || io::Error::new(io::ErrorKind::InvalidData, "not UTF-8 text");
        // Finish the carried sequence a byte at a time: four bytes at most.
        while self.carried > 0 {
            let Some((&b, rest)) = bytes.split_first() else {
                return Ok(());
            };
            self.carry[self.carried] = b;
            self.carried += 1;
            bytes = rest;
            match std::str::from_utf8(&self.carry[..self.carried]) {
                Ok(_) => self.carried = 0,
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(bad()),
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => Ok(()),
            // Cut at the end of this read: at most three bytes, finished by the next.
            Err(e) if e.error_len().is_none() => {
                let tail = &bytes[e.valid_up_to()..];
                self.carry[..tail.len()].copy_from_slice(tail);
                self.carried = tail.len();
                Ok(())
            }
            Err(_) => Err(bad()),
        }
    }
}

impl<R: Read> Read for Checked<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 && self.carried > 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "not UTF-8 text: cut in a character",
            ));
        }
        self.read += n as u64;
        if self.read > MAX_FILE {
            return Err(io::Error::other("larger than the limit once unzipped"));
        }
        self.check(&buf[..n])?;
        Ok(n)
    }
}

/// A document as the first reading takes it: a JSON object with a `Records` array, an
/// optional string `schema` (as the whole reading requires), each key once. Anything
/// else is an error here, and the file is read whole instead.
struct LogShape;

impl<'de> Deserialize<'de> for LogShape {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(Shape)
    }
}

struct Shape;

impl<'de> de::Visitor<'de> for Shape {
    type Value = LogShape;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudTrail log file")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogShape, A::Error> {
        let (mut records, mut schema) = (false, false);
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Records if records => return Err(de::Error::duplicate_field("Records")),
                Key::Records => {
                    // `null` is not a log file's: such a document is read whole.
                    map.next_value::<Option<Steps>>()?
                        .ok_or_else(|| de::Error::custom("Records: null"))?;
                    records = true;
                }
                Key::Schema if schema => return Err(de::Error::duplicate_field("schema")),
                Key::Schema => {
                    map.next_value::<Option<Text>>()?;
                    schema = true;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if records {
            Ok(LogShape)
        } else {
            Err(de::Error::missing_field("Records"))
        }
    }
}

/// A top-level key, compared and not kept (a key may be as long as the file).
enum Key {
    Records,
    Schema,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl de::Visitor<'_> for Visit {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key, E> {
                Ok(match s {
                    "Records" => Key::Records,
                    "schema" => Key::Schema,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(Visit)
    }
}

/// A JSON string, read (escapes checked, as the whole reading does) and not kept.
struct Text;

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl de::Visitor<'_> for Visit {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Text, E> {
                Ok(Text)
            }
        }
        d.deserialize_str(Visit)
    }
}

/// An array stepped over, each element read as JSON and nothing kept.
struct Steps;

impl<'de> Deserialize<'de> for Steps {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> de::Visitor<'de> for Visit {
            type Value = Steps;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Steps, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Steps)
            }
        }
        d.deserialize_seq(Visit)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Batch, Context, Filters, Json, Reading};
    use super::*;
    use crate::testing::{gzip, mutate, random, records};
    use crossguard_engine::report::{Change, Inputs};

    fn context() -> Context {
        let (allowlist, opts) = crate::testing::examples();
        Context::new(allowlist, opts, Filters::default())
    }

    /// Every row (its change and JSON text) and each batch's tally, as the writer gets them.
    fn outcome(ctx: &Context, raw: &[u8]) -> (Vec<(Change, Vec<u8>)>, Vec<Inputs>) {
        let mut batches: Vec<Batch> = Vec::new();
        ctx.decide_read(Ok(raw.to_vec()), "f.json.gz".into(), &mut |b| {
            batches.push(b);
            true
        });
        let mut rows = Vec::new();
        let mut tallies = Vec::new();
        for b in batches {
            for item in b.items {
                let text = match item.json {
                    Json::Text(t) => t,
                    Json::Value(v) => serde_json::to_vec(&v).unwrap(),
                };
                rows.push((item.change, text));
            }
            tallies.push(b.tally);
        }
        (rows, tallies)
    }

    /// Decided whole, then as a stream: the same rows and tallies.
    fn both(raw: &[u8]) -> (Vec<(Change, Vec<u8>)>, Vec<Inputs>) {
        both_in(&mut context(), raw)
    }

    fn both_in(ctx: &mut Context, raw: &[u8]) -> (Vec<(Change, Vec<u8>)>, Vec<Inputs>) {
        ctx.stream_over = u64::MAX;
        let whole = outcome(ctx, raw);
        ctx.stream_over = 0;
        let streamed = outcome(ctx, raw);
        assert_eq!(streamed.0.len(), whole.0.len());
        for (s, w) in streamed.0.iter().zip(&whole.0) {
            assert_eq!(s.0, w.0);
            assert_eq!(String::from_utf8_lossy(&s.1), String::from_utf8_lossy(&w.1));
        }
        assert_eq!(streamed.1, whole.1);
        whole
    }

    #[test]
    fn a_log_file_streamed_gives_the_rows_it_gives_whole() {
        let records = records();
        let log = format!("{{\"Records\":[{}]}}", records.join(","));
        // Pretty, with other keys around and a schema, written twice in one member; a
        // second member; characters of two to four bytes cut across reads.
        let pretty = format!(
            "\n {{ \"a\": [1, {{\"b\": null}}], \"schema\": \"x\\u00e9\",\n \"Records\" : [ {} ] , \"z\": \"é😀\" }}\n{log}  ",
            records.join(",\n  ")
        );
        let wide = format!(
            "{{\"Records\":[{{\"eventName\":\"GetObject\",\"x\":\"{}\"}},{}]}}",
            "é😀中".repeat(60_000),
            records[1]
        );
        let many = format!(
            "{{\"Records\":[{}]}}",
            vec![records.join(","); 40].join(",")
        );
        let cases: Vec<Vec<u8>> = vec![
            gzip(&[log.as_bytes()]),
            gzip(&[pretty.as_bytes()]),
            gzip(&[log.as_bytes(), pretty.as_bytes()]),
            gzip(&[wide.as_bytes()]),
            gzip(&[many.as_bytes()]),
            gzip(&[b"{\"Records\":[]}"]),
        ];
        let mut ctx = context();
        ctx.stream_over = 0;
        for raw in &cases {
            assert!(
                matches!(
                    ctx.reading(raw.clone(), &mut Vec::new()),
                    Ok(Reading::Stream { .. })
                ),
                "read as a stream"
            );
            let (rows, tallies) = both(raw);
            let read: u64 = tallies.iter().map(|t| t.files_read).sum();
            assert_eq!(read, 1);
            assert!(tallies.iter().all(|t| t.skipped.is_empty()));
            let records: u64 = tallies.iter().map(|t| t.records).sum();
            if raw != cases.last().unwrap() {
                assert!(records >= 2 && !rows.is_empty());
            }
        }
        // 40 copies of every record: rows in more than one chunk.
        assert!(both(&cases[4]).1.len() > 1);
    }

    #[test]
    fn a_faulty_or_other_file_is_read_whole_and_refused_or_decided_as_before() {
        let records = records();
        let log = format!("{{\"Records\":[{}]}}", records.join(","));
        let event = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../examples/events/2-unapproved-account.json"
        ))
        .unwrap();
        let mut bad_utf8 = log.clone().into_bytes();
        let at = bad_utf8.len() / 2;
        bad_utf8.splice(at..at, [b'"', 0xff, b'"']);
        let mut cut_char = br#"{"Records":[],"x":""#.to_vec();
        cut_char.extend([0xf0, 0x9f, 0x98, b'"', b'}']);
        let mut gz_cut = gzip(&[log.as_bytes()]);
        gz_cut.truncate(gz_cut.len() - 9);
        let mut gz_corrupt = gzip(&[log.as_bytes()]);
        let mid = gz_corrupt.len() / 2;
        gz_corrupt[mid] ^= 0x55;
        let texts: Vec<Vec<u8>> = vec![
            log[..log.len() - 3].into(),
            bad_utf8,
            cut_char,
            format!("{{\"Records\":[],\"Records\":[{}]}}", records[1]).into(),
            b"{\"Records\":null}".to_vec(),
            br#"{"Records":[],"schema":7}"#.to_vec(),
            br#"{"Records":[],"schema":"a","schema":"b"}"#.to_vec(),
            format!("{log} x").into(),
            format!("[[{}],null]", records[1]).into(),
            b"  ".to_vec(),
            b"{\"Records\":{}}".to_vec(),
            event.clone(),
            [log.as_bytes(), &event].concat(),
        ];
        let mut cases: Vec<Vec<u8>> = texts.iter().map(|t| gzip(&[t])).collect();
        cases.push(gz_cut);
        cases.push(gz_corrupt);
        for (i, raw) in cases.iter().enumerate() {
            assert!(log_documents(raw).is_none(), "case {i} is not streamed");
            let (rows, tallies) = both(raw);
            let skipped: Vec<_> = tallies.iter().flat_map(|t| &t.skipped).collect();
            // The event, and the array read as a log file, are decided; every other
            // case is refused whole, no row of it reported.
            if [8, 11, 12].contains(&i) {
                assert!(skipped.is_empty() && !rows.is_empty(), "case {i}");
            } else {
                assert_eq!(skipped.len(), 1, "case {i}");
                assert!(rows.is_empty(), "case {i}");
            }
        }
    }

    #[test]
    fn a_file_over_the_bound_streams_whatever_gzip_says_of_its_size() {
        let log = format!("{{\"Records\":[{}]}}", records().join(","));
        let mut ctx = context();
        ctx.stream_over = log.len() as u64 - 1;
        let streams = |ctx: &Context, raw: &[u8]| {
            matches!(
                ctx.reading(raw.to_vec(), &mut Vec::new()),
                Ok(Reading::Stream { .. })
            )
        };
        assert!(streams(&ctx, &gzip(&[log.as_bytes()])));
        // A last member of one byte: gzip's size field says 1, the file is still large.
        let hidden = gzip(&[log.as_bytes(), b" "]);
        assert!(!says_over(&hidden, ctx.stream_over));
        assert!(streams(&ctx, &hidden));
        assert!(says_over(&gzip(&[log.as_bytes()]), ctx.stream_over));
        // At the bound exactly, or a plain file: held whole.
        ctx.stream_over = log.len() as u64;
        assert!(!streams(&ctx, &gzip(&[log.as_bytes()])));
        ctx.stream_over = 0;
        assert!(!streams(&ctx, log.as_bytes()));
    }

    #[test]
    fn utf8_is_checked_across_reads() {
        let text = "aé😀中b".repeat(5);
        for cut in 1..text.len() {
            let mut c = Checked::new(&b""[..]);
            let (a, b) = text.as_bytes().split_at(cut);
            assert!(c.check(a).is_ok() && c.check(b).is_ok() && c.carried == 0);
        }
        let mut c = Checked::new(&[b'a', 0xe4, 0xb8][..]);
        let mut buf = [0; 8];
        assert_eq!(c.read(&mut buf).unwrap(), 3);
        assert!(c.read(&mut buf).is_err(), "cut in a character at the end");
        let mut c = Checked::new(&b""[..]);
        assert!(c.check(&[0xe4]).is_ok());
        assert!(c.check(b"a").is_err());
    }

    /// Texts mutated at random (some cut into two gzip members): whenever the first
    /// reading accepts a file, the whole reading accepts it as log files only, and both
    /// give the same rows and tallies.
    #[test]
    fn the_first_reading_is_never_looser_than_the_whole_one() {
        let mut rnd = random(0x9E37_79B9_7F4A_7C15);
        let recs = records();
        let seeds: Vec<Vec<u8>> = vec![
            format!("{{\"Records\":[{}]}}", recs.join(",")).into(),
            br#"{"Records":[{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","x":"\u00e9\ud83d\ude00"},1,-2.5e3,"s",null,[true,false],{}],"schema":"a","z":{"k":[1,{"q":"\"\\/"}]}}"#.to_vec(),
            format!(" {{\"schema\":null,\"Records\":[{}]}}\n{{\"Records\":[]}} ", recs[1]).into(),
            br#"{"Rec\u006frds":[0],"sch\u0065ma":"\u0041"}"#.to_vec(),
        ];
        let mut ctx = context();
        let (mut accepted, mut tried) = (0, 0);
        for _ in 0..60_000 {
            let mut t = seeds[rnd(seeds.len())].clone();
            if rnd(8) == 0 {
                t.extend_from_slice(&seeds[rnd(seeds.len())]);
            }
            mutate(&mut t, &mut rnd);
            let raw = if rnd(3) == 0 {
                let cut = rnd(t.len() + 1);
                gzip(&[&t[..cut], &t[cut..]])
            } else {
                gzip(&[&t])
            };
            tried += 1;
            let Some(docs) = log_documents(&raw) else {
                continue;
            };
            accepted += 1;
            let text = std::str::from_utf8(&t).expect("accepted: UTF-8");
            let whole = ctx
                .delimit(text)
                .unwrap_or_else(|e| panic!("accepted streamed, refused whole ({e}): {text:?}"));
            assert_eq!(whole.len(), docs, "{text:?}");
            assert!(
                whole.iter().all(|d| matches!(d, super::super::Doc::Log(_))),
                "{text:?}"
            );
            both_in(&mut ctx, &raw);
        }
        assert!(
            accepted > 1_000 && accepted < tried,
            "{accepted} of {tried}"
        );
    }

    /// Whatever the bound, a file not streamed reads as it did before there was one:
    /// the same text, or the same reason.
    #[test]
    fn a_file_read_whole_reads_as_before_whatever_the_bound() {
        let log = format!("{{\"Records\":[{}]}}", records().join(","));
        let mut cut = gzip(&[log.as_bytes()]);
        cut.truncate(cut.len() - 9);
        let mut corrupt = gzip(&[log.as_bytes()]);
        let mid = corrupt.len() / 2;
        corrupt[mid] ^= 0x55;
        // The size field saying large, falsely: not streamed, refused as corrupt.
        let mut lies = gzip(&[log.as_bytes()]);
        let n = lies.len();
        lies[n - 4..].copy_from_slice(&[0xff; 4]);
        let mut bad_utf8 = log.clone().into_bytes();
        bad_utf8.insert(log.len() / 2, 0xff);
        let cases = [
            cut,
            corrupt,
            lies,
            gzip(&[&bad_utf8]),
            gzip(&[b""]),
            vec![0x1f, 0x8b],
            gzip(&[&log.as_bytes()[..100], &log.as_bytes()[100..]]),
            gzip(&[log.as_bytes(), b"x"]),
            log.clone().into_bytes(),
        ];
        let mut ctx = context();
        // One room for every case, as a worker keeps it, holding text from before: only
        // what each file unzips to is read from it.
        let mut room = vec![b'{'; log.len() * 2];
        for (i, raw) in cases.iter().enumerate() {
            let before = super::super::text_of(raw.clone());
            if i < 4 {
                assert!(before.is_err(), "case {i}");
            }
            for bound in [0, log.len() / 2, log.len() - 1, log.len(), log.len() + 1] {
                ctx.stream_over = bound as u64;
                match ctx.reading(raw.clone(), &mut room) {
                    Ok(Reading::Text(t)) => {
                        assert_eq!(Ok(t.as_ref()), before.as_deref(), "case {i}");
                    }
                    Err(e) => assert_eq!(Err(&e), before.as_ref(), "case {i}"),
                    // A sound log file over the bound: streamed (its rows are the
                    // whole reading's, the tests above show).
                    Ok(Reading::Stream { .. }) => assert!(i == 6 && bound < log.len()),
                }
            }
        }
    }

    /// The window holds a record and a few buffers, never what it only steps over: a
    /// top-level value other than `Records`, white space, documents without records
    /// (the first reading holds none of these). Found by review: the window once let go
    /// only after a record.
    #[test]
    fn the_window_holds_a_record_and_buffers_not_what_it_steps_over() {
        let n = 8 << 20;
        let big = format!("{{\"eventName\":\"{}\"}}", "x".repeat(n));
        let cases = [
            (
                format!("{{\"Records\":[1],\"x\":[{}0]}}", "0,".repeat(n / 2)),
                1,
            ),
            (format!("{{\"Records\":[{}]}}", " ".repeat(n)), 0),
            ("{\"Records\":[]}".repeat(n / 14), 0),
            (format!("{{\"Records\":[{}1,2]}}", " ".repeat(n)), 2),
            (format!("{{\"Records\":[{big},1]}}"), 2),
        ];
        for (i, (t, count)) in cases.iter().enumerate() {
            let docs = log_documents(&gzip(&[t.as_bytes()])).unwrap();
            let mut text = Window::new(t.as_bytes());
            let mut got = Vec::new();
            text.records(docs, &mut |r| {
                got.push(r.len());
                true
            })
            .unwrap();
            assert_eq!(got.len(), *count, "case {i}");
            // A record of 8 MiB is held whole; nothing else grows the window.
            let most = got.iter().max().copied().unwrap_or(0) + 3 * BUFFER;
            assert!(text.buf.len() <= most, "case {i}: {} bytes", text.buf.len());
        }
    }

    /// The UTF-8 check over reads cut anywhere agrees with `str::from_utf8` on the whole.
    #[test]
    fn utf8_checked_in_pieces_is_utf8_checked_whole() {
        struct Cuts<'a>(&'a [u8], Vec<usize>);
        impl Read for Cuts<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self
                    .1
                    .pop()
                    .unwrap_or(usize::MAX)
                    .min(self.0.len())
                    .min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut rnd = random(0x1234_5678_9abc_def1);
        let pool: Vec<u8> = "aé😀中\u{10ffff}\u{7ff}\u{800}\u{ffff}"
            .bytes()
            .chain([
                0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f,
            ])
            .collect();
        for _ in 0..200_000 {
            let len = rnd(12);
            let bytes: Vec<u8> = (0..len).map(|_| pool[rnd(pool.len())]).collect();
            let cuts: Vec<usize> = (0..len).map(|_| 1 + rnd(3)).collect();
            let mut c = Checked::new(Cuts(&bytes, cuts));
            let mut out = Vec::new();
            let ok = c.read_to_end(&mut out).is_ok();
            assert_eq!(ok, std::str::from_utf8(&bytes).is_ok(), "{bytes:x?}");
        }
    }

    /// A writer that stops after its k-th batch sees the same batches from both readings.
    #[test]
    fn a_writer_that_stops_sees_the_same_batches() {
        let records = records();
        let many = format!(
            "{{\"Records\":[{}]}}\n{{\"Records\":[{}]}}",
            vec![records.join(","); 200].join(","),
            vec![records.join(","); 100].join(",")
        );
        let raw = gzip(&[many.as_bytes()]);
        let mut ctx = context();
        for k in 1..6 {
            let mut got = Vec::new();
            for over in [u64::MAX, 0] {
                ctx.stream_over = over;
                let mut batches: Vec<(usize, Inputs)> = Vec::new();
                ctx.decide_read(Ok(raw.clone()), "f".into(), &mut |b| {
                    batches.push((b.items.len(), b.tally));
                    batches.len() < k
                });
                got.push(batches);
            }
            assert_eq!(got[0], got[1], "k {k}");
            assert_eq!(got[0].len(), k, "the run stops at the k-th batch");
        }
    }
}
