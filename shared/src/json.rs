//! JSON read exactly (SPEC §1). serde_json resolves a duplicate key last-wins without a
//! word, so `"Effect":"Allow","Effect":"Deny"` or `"Statement":[public],"Statement":[]`
//! would hide a grant from the guard while AWS (or a later reader) may see it. Every
//! document crossguard decides on is read here: the value as serde_json builds it, plus
//! the path of each duplicate key, so the caller can refuse it with a reason.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Number, Value};
use std::cell::{Cell, RefCell};
use std::fmt;

/// Duplicate keys noted with their paths; past this, one more only sets `overflow`.
const MAX_NOTED: usize = 32;

pub mod write;

/// A JSON document with the duplicate keys it holds (each once, by path).
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The document as serde_json reads it (a duplicate key keeps its last value).
    pub value: Value,
    /// Paths of duplicate keys, such as `Statement[0].Effect`, in document order.
    pub duplicates: Vec<String>,
    /// More duplicates than were noted.
    pub overflow: bool,
}

impl Checked {
    /// The first duplicate key at or under `prefix` (a path as [`Checked::duplicates`]
    /// writes it; `""` for the whole document).
    pub fn duplicate_under(&self, prefix: &str) -> Option<&str> {
        self.duplicates
            .iter()
            .map(String::as_str)
            .find(|p| is_under(p, prefix))
    }

    /// A one-line reason naming the first duplicate at or under `prefix`, if any. When
    /// more duplicates were seen than noted, every part of the document is suspect.
    pub fn duplicate_reason(&self, prefix: &str) -> Option<String> {
        match self.duplicate_under(prefix) {
            Some(p) => Some(duplicate_message(p)),
            None if self.overflow => Some(format!(
                "more than {MAX_NOTED} duplicate JSON keys: the document cannot be read exactly"
            )),
            None => None,
        }
    }
}

/// Where the first byte of eight that is `"`, `\` or a control character is (8: none
/// is). serde_json's test, all eight at once in a `u64`: see [`special_bits`].
#[doc(hidden)]
#[inline(always)]
pub fn first_special(chunk: &[u8; 8]) -> usize {
    special_bits(u64::from_le_bytes(*chunk)).trailing_zeros() as usize / 8
}

/// The high bit of each byte of `w` (eight bytes, little-endian) that is `"`, `\` or a
/// control character, and maybe of bytes after the first such byte (a borrow runs on):
/// the lowest bit set is exact; zero when there is none.
#[inline(always)]
pub(crate) fn special_bits(w: u64) -> u64 {
    const ONES: u64 = u64::MAX / 255;
    let ctrl = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * u64::from(b'\\'));
    let slash = s.wrapping_sub(ONES) & !s;
    (ctrl | quote | slash) & (ONES << 7)
}

/// Does the text hold a byte that could be white space: a space or a control character
/// (JSON's tab, line feed and carriage return among them)? Eight bytes at a time.
pub(crate) fn any_space_or_control(b: &[u8]) -> bool {
    const ONES: u64 = u64::MAX / 255;
    let chunks = b.chunks_exact(8);
    let rest = chunks.remainder();
    chunks.into_iter().any(|c| {
        let mut w = [0; 8];
        w.copy_from_slice(c);
        let w = u64::from_le_bytes(w);
        // The high bit of each byte below 0x21 (that is, at most a space), and of none
        // other when there is no such byte.
        w.wrapping_sub(ONES * 0x21) & !w & (ONES << 7) != 0
    }) || rest.iter().any(|&c| c <= b' ')
}

/// The reason given for a duplicate key at `path`.
pub fn duplicate_message(path: &str) -> String {
    format!("duplicate JSON key {path}: the document cannot be read exactly (which value counts is up to the reader)")
}

/// Is `path` at or under `prefix` (`""`: everything)?
pub(crate) fn is_under(path: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
}

/// Parse JSON text, noting duplicate keys. Errors are serde_json's (syntax, a number out
/// of range, a lone surrogate, nesting past 128 levels).
pub fn from_str(text: &str) -> Result<Checked, serde_json::Error> {
    read(|| serde_json::Deserializer::from_str(text))
}

/// Same, from bytes (which must be UTF-8).
pub fn from_slice(bytes: &[u8]) -> Result<Checked, serde_json::Error> {
    read(|| serde_json::Deserializer::from_slice(bytes))
}

/// Most documents hold no duplicate key: read without writing paths, and only a document
/// that has one is read again to name each (the same reader: the same value, the same
/// errors).
fn read<'a, R: serde_json::de::Read<'a>>(
    reader: impl Fn() -> serde_json::Deserializer<R>,
) -> Result<Checked, serde_json::Error> {
    let seen = Cell::new(false);
    let mut de = reader();
    let value = Node(&seen).deserialize(&mut de)?;
    de.end()?;
    if !seen.get() {
        return Ok(Checked {
            value,
            duplicates: Vec::new(),
            overflow: false,
        });
    }
    let mut de = reader();
    let checked = Checked::deserialize(&mut de)?;
    de.end()?;
    Ok(checked)
}

/// A value echoed in a message: quoted, control characters escaped, cut to a readable
/// length (values are attacker-chosen and may run to megabytes).
pub fn excerpt(s: &str) -> String {
    const MAX: usize = 64;
    let cut: String = s.chars().take(MAX).collect();
    if cut.len() < s.len() {
        format!("{cut:?}… ({} bytes)", s.len())
    } else {
        format!("{cut:?}")
    }
}

/// Append a key to a path: bare when it reads unambiguously, else as a JSON string cut
/// to a readable length (keys are attacker-chosen text).
pub fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    let plain = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'-' | b'_' | b'@' | b'/'));
    if plain {
        path.push_str(key);
    } else {
        let cut: String = key.chars().take(64).collect();
        let quoted = serde_json::to_string(&cut).unwrap_or_else(|_| "\"?\"".into());
        path.push_str(&quoted);
        if cut.len() < key.len() {
            path.push('…');
        }
    }
}

/// Append `[index]` to a path: once per array element read, so without `fmt`'s
/// machinery (a fifth of a policy's checked reading went to it).
fn push_index(path: &mut String, index: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = index;
    loop {
        at -= 1;
        digits[at] = b"0123456789"[n % 10];
        n /= 10;
        if n == 0 {
            break;
        }
    }
    path.push('[');
    for &d in &digits[at..] {
        path.push(char::from(d));
    }
    path.push(']');
}

#[derive(Default)]
struct State {
    path: String,
    duplicates: Vec<String>,
    overflow: bool,
}

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Checked, D::Error> {
        let state = RefCell::new(State::default());
        let value = Node(&state).deserialize(d)?;
        let s = state.into_inner();
        Ok(Checked {
            value,
            duplicates: s.duplicates,
            overflow: s.overflow,
        })
    }
}

/// What a reading notes of where it is and of duplicate keys.
trait Track {
    /// Entering the value of `key`; returns what [`Track::leave`] restores.
    fn key(&self, key: &str) -> usize;
    /// Entering element `index` of an array.
    fn index(&self, index: usize) -> usize;
    /// Leaving the value entered.
    fn leave(&self, mark: usize);
    /// The key just read was there before, at the place entered.
    fn duplicate(&self);
}

/// Paths, and each duplicate key by its path.
impl Track for RefCell<State> {
    fn key(&self, key: &str) -> usize {
        let mut s = self.borrow_mut();
        let len = s.path.len();
        push_key(&mut s.path, key);
        len
    }
    fn index(&self, index: usize) -> usize {
        let mut s = self.borrow_mut();
        let len = s.path.len();
        push_index(&mut s.path, index);
        len
    }
    fn leave(&self, mark: usize) {
        self.borrow_mut().path.truncate(mark);
    }
    fn duplicate(&self) {
        let mut s = self.borrow_mut();
        if s.duplicates.len() < MAX_NOTED {
            let p = s.path.clone();
            s.duplicates.push(p);
        } else {
            s.overflow = true;
        }
    }
}

/// Only whether there is a duplicate key.
impl Track for Cell<bool> {
    fn key(&self, _: &str) -> usize {
        0
    }
    fn index(&self, _: usize) -> usize {
        0
    }
    fn leave(&self, _: usize) {}
    fn duplicate(&self) {
        self.set(true);
    }
}

/// Builds one value as serde_json's own `Value` visitor does, noting where it is.
struct Node<'s, T>(&'s T);

impl<'de, T: Track> DeserializeSeed<'de> for Node<'_, T> {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Track> Visitor<'de> for Node<'_, T> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        // serde_json refuses out-of-range numbers itself; a non-finite one is no JSON.
        Number::from_f64(n)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number out of range"))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        Ok(Value::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<Value, E> {
        Ok(Value::String(s))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        loop {
            let mark = self.0.index(out.len());
            let next = seq.next_element_seed(Node(self.0))?;
            self.0.leave(mark);
            match next {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let mark = self.0.key(&key);
            let value = map.next_value_seed(Node(self.0))?;
            // A key seen before keeps its place and takes the last value, as serde_json's
            // own reading does; the one lookup tells it was there.
            if out.insert(key, value).is_some() {
                self.0.duplicate();
            }
            self.0.leave(mark);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn space_or_control_is_found_at_every_place() {
        for len in 0..20 {
            let plain = vec![b'a'; len];
            assert!(!any_space_or_control(&plain));
            // `!` is the byte just above a space; 0x7f and multibyte text are not white.
            let mut edge = b"!~\x7f\xc3\xa9".repeat(len);
            edge.truncate(len);
            assert!(!any_space_or_control(&edge), "{edge:?}");
            for at in 0..len {
                for c in [b' ', b'\t', b'\n', b'\r', 0, 0x1f] {
                    let mut t = plain.clone();
                    t[at] = c;
                    assert!(any_space_or_control(&t), "{len} {at} {c}");
                }
            }
        }
    }

    #[test]
    fn notes_duplicates_with_paths() {
        let c = from_str(
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny"}],"a b":{"x":1,"x":2},"Statement":[]}"#,
        )
        .unwrap();
        assert_eq!(
            c.duplicates,
            vec!["Statement[0].Effect", "\"a b\".x", "Statement"]
        );
        assert_eq!(c.value["Statement"], serde_json::json!([]));
        assert_eq!(
            c.duplicate_under("Statement[0]"),
            Some("Statement[0].Effect")
        );
        assert_eq!(c.duplicate_under("Statement[1]"), None);
        assert_eq!(c.duplicate_under("Statement"), Some("Statement[0].Effect"));
        assert!(c
            .duplicate_reason("")
            .unwrap()
            .contains("Statement[0].Effect"));
    }

    #[test]
    fn same_value_as_serde_json_and_same_refusals() {
        for text in [
            r#"{"a":[1,-2,3.5,"x\u00e9",null,true,{"b":{}}],"c":1e300}"#,
            r#"[]"#,
            r#""s""#,
        ] {
            let ours = from_str(text).unwrap();
            assert!(ours.duplicates.is_empty());
            assert_eq!(ours.value, serde_json::from_str::<Value>(text).unwrap());
        }
        for bad in [r#"{"a":1e400}"#, r#"{"a":"\ud800"}"#, "{", "{} x"] {
            assert!(from_str(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<Value>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn indices_in_paths() {
        for i in [0usize, 7, 10, 99, 1234, usize::MAX] {
            let mut p = String::from("a");
            push_index(&mut p, i);
            assert_eq!(p, format!("a[{i}]"));
        }
    }

    #[test]
    fn caps_what_it_notes() {
        let many: String = (0..100).map(|_| "\"k\":1,").collect();
        let c = from_str(&format!("{{{many}\"z\":0}}")).unwrap();
        assert_eq!(c.duplicates.len(), MAX_NOTED);
        assert!(c.overflow);
        assert!(c.duplicate_reason("nothing.here").is_some());
    }

    #[test]
    fn odd_keys_are_quoted_and_cut() {
        let mut p = String::new();
        push_key(&mut p, "Statement");
        push_key(&mut p, "a.b");
        push_key(&mut p, &"x".repeat(100));
        assert!(p.starts_with("Statement.\"a.b\".\"xxx"));
        assert!(p.ends_with('…'));
    }
}
