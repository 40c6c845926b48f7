//! The whole reading's fast delimiter: a text made only of log files
//! (`{"Records":[…]}`, one document after another) delimited into its records, and
//! each record's `eventName`/`eventSource` read on the way.
//!
//! serde_json spends most of replay's time stepping over the records of other calls one
//! value at a time (a short string costs it tens of instructions). This scanner does the
//! same checks as serde_json's `ignore_value` (the grammar, control characters and
//! escapes in strings, numbers, literals), eight bytes of a string at a time, and
//! judges nothing it is unsure of: anything but that shape — a fault, an escaped or
//! other top-level key, nesting deeper than [`DEEPEST`], an empty text — is `None`,
//! and the text is then read by serde_json exactly as before (same rows, same
//! reasons). What it accepts, serde_json accepts with the same records: held by the
//! random-mutation test below and by the `logfile` fuzz target, which compiles this file
//! itself (`fuzz/src/lib.rs`): it uses std alone, and its tests are its only tie to the
//! rest of the CLI.

use std::ops::Range;

/// Deepest nesting inside a record this scanner reads (serde_json reads any depth when
/// it steps over a value; deeper records are left to it).
const DEEPEST: u32 = 63;

/// What a record's top level says of its call, read while delimiting it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call<'a> {
    /// `eventName` and `eventSource`, each at most once, each a string without escapes
    /// or `null` (or absent): what serde reads of them.
    Named {
        name: Option<&'a str>,
        source: Option<&'a str>,
    },
    /// Anything else (not an object, a key with an escape, a key twice, another kind of
    /// value): the record is looked at as before.
    Unknown,
}

/// One record of a log file: its text and what was read of its call.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub raw: &'a str,
    pub call: Call<'a>,
}

/// Every log file of `text` (each its records), or `None` when the text is anything
/// else or anything in it is doubted.
pub fn log_files(text: &str) -> Option<Vec<Vec<Record<'_>>>> {
    let mut s = Scan {
        text,
        b: text.as_bytes(),
        i: 0,
    };
    let mut docs = Vec::new();
    while let Some(c) = s.ws() {
        if c != b'{' {
            return None;
        }
        s.i += 1;
        s.expect(b'"')?;
        let key = s.string()?;
        if key.escaped || s.b.get(key.text) != Some(b"Records".as_slice()) {
            return None;
        }
        s.expect(b':')?;
        s.expect(b'[')?;
        let mut records = Vec::new();
        if s.ws()? == b']' {
            s.i += 1;
        } else {
            loop {
                s.ws()?;
                let start = s.i;
                let call = s.record()?;
                records.push(Record {
                    raw: text.get(start..s.i)?,
                    call,
                });
                match s.ws()? {
                    b',' => s.i += 1,
                    b']' => {
                        s.i += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        s.expect(b'}')?;
        docs.push(records);
    }
    if docs.is_empty() {
        return None;
    }
    Some(docs)
}

/// A string read: where its contents lie, and whether they hold an escape.
struct Str {
    text: Range<usize>,
    escaped: bool,
}

/// One of a record's two fields, as read so far.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Field<'a> {
    Absent,
    Null,
    Text(&'a str),
}

impl<'a> Field<'a> {
    fn value(self) -> Option<&'a str> {
        match self {
            Field::Text(t) => Some(t),
            Field::Absent | Field::Null => None,
        }
    }
}

struct Scan<'a> {
    text: &'a str,
    b: &'a [u8],
    i: usize,
}

use crossguard_engine::json::first_special;

impl<'a> Scan<'a> {
    /// The next byte that is not white space (not stepped over), or `None` at the end.
    #[inline(always)]
    fn ws(&mut self) -> Option<u8> {
        while let Some(&c) = self.b.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\t' | b'\r') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    /// White space, then `c`, stepped over.
    fn expect(&mut self, c: u8) -> Option<()> {
        (self.ws()? == c).then(|| self.i += 1)
    }

    /// From `i`, past the bytes that are plain in a string, eight at a time: where the
    /// first `"`, `\` or control character is, or where fewer than eight bytes are left.
    #[inline(always)]
    fn plain(&self, mut i: usize) -> usize {
        while let Some(chunk) = self.b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            let k = first_special(chunk);
            i += k;
            if k < 8 {
                break;
            }
        }
        i
    }

    /// A string's contents, the opening quote already stepped over; to just past the
    /// closing quote. Most strings end at their first special byte.
    #[inline(always)]
    fn string(&mut self) -> Option<Str> {
        let start = self.i;
        let end = self.plain(start);
        if self.b.get(end) == Some(&b'"') {
            self.i = end + 1;
            return Some(Str {
                text: start..end,
                escaped: false,
            });
        }
        self.i = end;
        self.string_slowly(start)
    }

    /// [`Scan::string`] when what it holds is not wanted: nothing is made of it (made
    /// and returned, a string's place and escape cost more than the search).
    #[inline(always)]
    fn skip_string(&mut self) -> Option<()> {
        let end = self.plain(self.i);
        if self.b.get(end) == Some(&b'"') {
            self.i = end + 1;
            return Some(());
        }
        let start = self.i;
        self.i = end;
        self.string_slowly(start).map(drop)
    }

    /// The rest of a string that holds an escape, a control character, or runs into the
    /// text's last eight bytes.
    #[cold]
    #[inline(never)]
    fn string_slowly(&mut self, start: usize) -> Option<Str> {
        let mut escaped = false;
        loop {
            self.i = self.plain(self.i);
            match *self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    return Some(Str {
                        text: start..self.i - 1,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    self.escape()?;
                }
                c if c < 0x20 => return None,
                // Fewer than eight bytes were left: one at a time.
                _ => self.i += 1,
            }
        }
    }

    /// What follows a backslash: one of JSON's escapes (`\u` and four hex digits; which
    /// code point they name is the full parser's business, as it is serde_json's here).
    fn escape(&mut self) -> Option<()> {
        match *self.b.get(self.i)? {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
            b'u' => {
                let hex = self.b.get(self.i + 1..self.i + 5)?;
                if !hex.iter().all(u8::is_ascii_hexdigit) {
                    return None;
                }
                self.i += 5;
            }
            _ => return None,
        }
        Some(())
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, as serde_json steps over it.
    fn number(&mut self) -> Option<()> {
        if self.b.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match *self.b.get(self.i)? {
            b'0' => {
                self.i += 1;
                if self.b.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return None;
                }
            }
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.b.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.b.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(())
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        (self.b.get(self.i..self.i + word.len())? == word).then(|| self.i += word.len())
    }

    /// Any one value, white space before it stepped over.
    fn value(&mut self) -> Option<()> {
        // One bit per open container, innermost lowest: set for an object.
        let mut open: u64 = 0;
        let mut depth = 0;
        loop {
            let c = self.ws()?;
            match c {
                b'"' => {
                    self.i += 1;
                    self.skip_string()?;
                }
                b'{' | b'[' => {
                    self.i += 1;
                    if depth == DEEPEST {
                        return None;
                    }
                    let object = c == b'{';
                    if self.ws()? == if object { b'}' } else { b']' } {
                        self.i += 1;
                    } else {
                        open = open << 1 | u64::from(object);
                        depth += 1;
                        if object {
                            self.skip_key()?;
                        }
                        continue;
                    }
                }
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // A value is complete: close what it completes, up to the next value.
            loop {
                if depth == 0 {
                    return Some(());
                }
                let object = open & 1 == 1;
                match self.ws()? {
                    b',' => {
                        self.i += 1;
                        if object {
                            self.skip_key()?;
                        }
                        break;
                    }
                    b'}' if object => {}
                    b']' if !object => {}
                    _ => return None,
                }
                self.i += 1;
                open >>= 1;
                depth -= 1;
            }
        }
    }

    /// An object's key and its colon, stepped over.
    #[inline(always)]
    fn skip_key(&mut self) -> Option<()> {
        self.expect(b'"')?;
        self.skip_string()?;
        self.expect(b':')
    }

    /// An object's key and its colon.
    fn key(&mut self) -> Option<Str> {
        self.expect(b'"')?;
        let key = self.string()?;
        self.expect(b':')?;
        Some(key)
    }

    /// One record, white space before it stepped over: delimited, and its call read
    /// when it is an object.
    fn record(&mut self) -> Option<Call<'a>> {
        if self.b.get(self.i) != Some(&b'{') {
            self.value()?;
            return Some(Call::Unknown);
        }
        self.i += 1;
        if self.ws()? == b'}' {
            self.i += 1;
            return Some(Call::Named {
                name: None,
                source: None,
            });
        }
        let (mut name, mut source) = (Field::Absent, Field::Absent);
        let mut plain = true;
        loop {
            let key = self.key()?;
            let field = match self.b.get(key.text) {
                _ if key.escaped => {
                    plain = false;
                    None
                }
                Some(b"eventName") => Some(&mut name),
                Some(b"eventSource") => Some(&mut source),
                _ => None,
            };
            match field {
                None => self.value()?,
                Some(field) => {
                    let first = *field == Field::Absent;
                    match self.ws()? {
                        b'"' => {
                            self.i += 1;
                            let s = self.string()?;
                            match self.text.get(s.text) {
                                Some(t) if first && !s.escaped => *field = Field::Text(t),
                                _ => plain = false,
                            }
                        }
                        b'n' if first => {
                            self.literal(b"null")?;
                            *field = Field::Null;
                        }
                        _ => {
                            plain = false;
                            self.value()?;
                        }
                    }
                }
            }
            match self.ws()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    break;
                }
                _ => return None,
            }
        }
        Some(if plain {
            Call::Named {
                name: name.value(),
                source: source.value(),
            }
        } else {
            Call::Unknown
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Context, Doc, Filters, Skim};
    use super::*;
    use crate::testing::{mutate, random, records};

    fn context() -> Context {
        let (allowlist, opts) = crate::testing::examples();
        Context::new(allowlist, opts, Filters::default())
    }

    fn calls(text: &str) -> Option<Vec<Call<'_>>> {
        log_files(text).map(|docs| docs.iter().flatten().map(|r| r.call).collect())
    }

    fn named<'a>(name: Option<&'a str>, source: Option<&'a str>) -> Call<'a> {
        Call::Named { name, source }
    }

    /// What serde_json's reading (the judge) makes of a text the fast delimiter
    /// accepted: the same documents, each a log file, the same records (the same slices
    /// of the text), and, where a call was read, what serde reads of it.
    fn judged(ctx: &Context, text: &str, docs: &[Vec<Record>]) {
        let slow = ctx
            .delimit_slowly(text)
            .unwrap_or_else(|e| panic!("accepted fast, refused by serde_json ({e}): {text:?}"));
        assert_eq!(slow.len(), docs.len(), "{text:?}");
        for (doc, fast) in slow.iter().zip(docs) {
            let Doc::Log(slow) = doc else {
                panic!("not a log file to serde_json: {text:?}")
            };
            assert_eq!(slow.len(), fast.len(), "{text:?}");
            for (s, f) in slow.iter().zip(fast) {
                assert_eq!(
                    (s.raw.as_ptr(), s.raw.len()),
                    (f.raw.as_ptr(), f.raw.len()),
                    "{text:?}"
                );
                if let Call::Named { name, source } = f.call {
                    let skim: Skim = serde_json::from_str(f.raw)
                        .unwrap_or_else(|e| panic!("named, but serde refuses ({e}): {text:?}"));
                    assert_eq!(skim.name.as_deref(), name, "{text:?}");
                    assert_eq!(skim.source.as_deref(), source, "{text:?}");
                }
                assert_eq!(
                    ctx.guarded(f.raw, f.call),
                    ctx.guarded(f.raw, Call::Unknown),
                    "{text:?}"
                );
            }
        }
    }

    /// The special byte found eight at a time is the one found a byte at a time, for
    /// every byte value at every place, with others after it or not.
    #[test]
    fn special_bytes_are_found_eight_at_a_time() {
        let slow = |c: &[u8; 8]| {
            c.iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(8)
        };
        let mut rnd = random(7);
        for at in 0..8 {
            for byte in 0..=255u8 {
                for _ in 0..4 {
                    let mut c = [0; 8];
                    for b in &mut c {
                        *b = [b'a', 0x7f, 0xc3, 0xff, b' ', b'!', b'#', b']'][rnd(8)];
                    }
                    c[at] = byte;
                    if rnd(2) == 0 {
                        c[at + rnd(8 - at)] = [b'"', b'\\', 0, 0x1f][rnd(4)];
                    }
                    assert_eq!(first_special(&c), slow(&c), "{c:?}");
                }
            }
        }
    }

    #[test]
    fn calls_are_read_where_serde_would_read_them_the_same() {
        let t = r#"{"Records":[{"eventName":"PutBucketPolicy","x":{"eventName":"no"},"eventSource":"s3.amazonaws.com"},{"eventSource":null},{}]}"#;
        assert_eq!(
            calls(t).unwrap(),
            [
                named(Some("PutBucketPolicy"), Some("s3.amazonaws.com")),
                named(None, None),
                named(None, None)
            ]
        );
        // Read by serde_json as before: an escape in a key or in the name, a key twice
        // (null first), a name not a string, a record not an object.
        for record in [
            r#"{"event\u004eame":"PutBucketPolicy"}"#,
            r#"{"eventName":"PutBucket\u0050olicy"}"#,
            r#"{"eventName":null,"eventName":"PutBucketPolicy"}"#,
            r#"{"eventSource":"a","eventSource":"a"}"#,
            r#"{"eventName":["PutBucketPolicy"]}"#,
            r#"{"eventName":1}"#,
            r#"["PutBucketPolicy","s3.amazonaws.com"]"#,
            r#""PutBucketPolicy""#,
        ] {
            let t = format!(r#"{{"Records":[{record}]}}"#);
            assert_eq!(calls(&t).unwrap(), [Call::Unknown], "{record}");
        }
    }

    #[test]
    fn what_is_doubted_is_left_to_serde_json() {
        let ctx = context();
        let deep = format!(
            r#"{{"Records":[{}{}]}}"#,
            "[".repeat(DEEPEST as usize + 1),
            "]".repeat(DEEPEST as usize + 1)
        );
        let deepest = format!(
            r#"{{"Records":[{}{}]}}"#,
            "[".repeat(DEEPEST as usize),
            "]".repeat(DEEPEST as usize)
        );
        assert!(log_files(&deepest).is_some());
        // serde_json's reading of these differs from the fast one's `None` only in that
        // it reads some (and names the fault of the others).
        for t in [
            "",
            "  \n",
            "\u{feff}{\"Records\":[]}",
            r#"{"Rec\u006frds":[]}"#,
            r#"{"Records":[],"schema":null}"#,
            r#"{"schema":"x","Records":[]}"#,
            r#"{"Records":null}"#,
            r#"[[{}]]"#,
            r#"{"Records":[]} x"#,
            r#"{"Records":[1,]}"#,
            r#"{"Records":[01]}"#,
            r#"{"Records":[1.]}"#,
            r#"{"Records":[-]}"#,
            r#"{"Records":[1e]}"#,
            r#"{"Records":[nul]}"#,
            r#"{"Records":["a\x"]}"#,
            r#"{"Records":["\u12"]}"#,
            "{\"Records\":[\"a\tb\"]}",
            r#"{"Records":[{"a":1,}]}"#,
            r#"{"Records":[{"a" 1}]}"#,
            r#"{"Records":[{1:1}]}"#,
            r#"{"Records":[{"eventName":"x"]}"#,
            r#"{"Records":[{"a":{"b":1]}]}"#,
            r#"{"Records":[[1}]}"#,
            r#"{"Records":[{"a":[{}}]}]}"#,
            r#"{"Records":["#,
            &deep,
        ] {
            assert!(log_files(t).is_none(), "{t:?}");
        }
        // What serde_json reads of the deep one is the same record.
        let Doc::Log(records) = &ctx.delimit(&deep).unwrap()[0] else {
            panic!("a log file")
        };
        assert_eq!(records.len(), 1);
        for t in [
            r#"{"Records":[1, -0, 0.5e-3, 2E+7, true, false, null, "\"\\\/\b\f\n\r\t\u00e9\uD83D\uDE00", [], {}, [{"a":[1,{"b":{}}]}]]}"#,
            " {\"Records\" : [ {\"a\" : 1 } , 2 ] }\r\n\t{\"Records\":[]}{\"Records\":[\"\u{7f}é😀\"]} ",
            &deepest,
        ] {
            let docs = log_files(t).unwrap_or_else(|| panic!("{t:?}"));
            judged(&ctx, t, &docs);
        }
    }

    /// The scanner makes serde_json's checks as serde_json 1.0.154 makes them (when it
    /// steps over a value: no depth limit, `\u` escapes not paired, …). A new serde_json
    /// is to be read against `ignore_value` and its string and number steps before this
    /// is moved on: were it to check more, the scanner would be looser than the judge.
    #[test]
    fn serde_json_is_the_version_the_scanner_was_read_against() {
        let lock = include_str!("../../../Cargo.lock");
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("name = \"serde_json\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = ")));
        assert_eq!(version, Some("\"1.0.154\""));
    }

    /// The `logfile` fuzz target's corpus (`fuzz/corpus/logfile`, where what a fuzzer
    /// finds is kept) reads as serde_json reads it.
    #[test]
    fn the_fuzz_corpus_reads_as_serde_json_reads_it() {
        let ctx = context();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/corpus/logfile");
        let mut accepted = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            if let Some(docs) = log_files(text) {
                accepted += 1;
                judged(&ctx, text, &docs);
            }
        }
        assert!(accepted >= 3, "{accepted}");
    }

    /// Texts mutated at random: whatever the fast delimiter accepts, serde_json accepts
    /// as log files only, with the same records and calls; and it accepts most valid
    /// ones (else the fast path would be a test of nothing).
    #[test]
    fn the_fast_delimiter_is_never_looser_than_serde_json() {
        let ctx = context();
        let mut rnd = random(0x2545_F491_4F6C_DD1D);
        let recs = records();
        let compact = format!("{{\"Records\":[{}]}}", recs.join(","));
        let v: serde_json::Value = serde_json::from_str(&compact).unwrap();
        let seeds: Vec<Vec<u8>> = vec![
            compact.clone().into(),
            serde_json::to_string_pretty(&v).unwrap().into(),
            br#"{"Records":[{"eventName":"PutBucketPolicy","eventSource":"s3.amazonaws.com","n":[-1.5e+3,0,true,null],"s":"\u00e9\"\\"},["a",{}],"x",7,{"eventName":null}]}"#.to_vec(),
            format!(" {{\"Records\":[{}]}}\n{{\"Records\":[]}} ", recs[1]).into(),
            br#"{"Records":[{"a":{"b":[{"c":[[],{}]},{"d":{"e":[1]}}]}},[[{"f":[]}]]]}"#.to_vec(),
        ];
        let (mut accepted, mut valid, mut tried) = (0, 0, 0);
        for _ in 0..60_000 {
            let mut t = seeds[rnd(seeds.len())].clone();
            if rnd(8) == 0 {
                t.extend_from_slice(&seeds[rnd(seeds.len())]);
            }
            mutate(&mut t, &mut rnd);
            let Ok(text) = std::str::from_utf8(&t) else {
                continue;
            };
            tried += 1;
            let slow_ok = ctx
                .delimit_slowly(text)
                .is_ok_and(|d| d.iter().all(|d| matches!(d, Doc::Log(_))));
            valid += usize::from(slow_ok);
            if let Some(docs) = log_files(text) {
                accepted += 1;
                judged(&ctx, text, &docs);
            }
        }
        // Doubted: an escaped top-level key, deep nesting; nothing else valid.
        assert!(
            accepted > 2_000 && accepted + accepted / 50 >= valid && valid < tried,
            "{accepted} accepted, {valid} valid, of {tried}"
        );
    }
}
