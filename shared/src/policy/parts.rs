//! A document taken apart for a remediation plan: its members in order and its
//! statements, each either a slice of the text the document was read from or a JSON
//! value. A plan edits only the statements it cuts (read as values) and writes every
//! other part back as the text it was, so a policy is not read a second time whole, and
//! what the plan leaves unchanged is written as it was given.

use super::{PolicyDocument, PolicyError};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// One member's value or one statement: its JSON text as given, or a value.
#[derive(Debug, Clone)]
pub(crate) enum Piece<'a> {
    /// Text from the document the fast path accepted (no duplicate key at any level).
    Text(&'a str),
    Value(Value),
    /// Text a plan wrote (a statement with principals cut from its text).
    Owned(String),
}

impl Piece<'_> {
    /// The piece as a value to edit; text is read on first use.
    pub(crate) fn value_mut(&mut self) -> Result<&mut Value, PolicyError> {
        match self {
            Piece::Text(t) => *self = Piece::Value(read(t)?),
            Piece::Owned(t) => *self = Piece::Value(read(t)?),
            Piece::Value(_) => {}
        }
        match self {
            Piece::Value(v) => Ok(v),
            Piece::Text(_) | Piece::Owned(_) => {
                Err(PolicyError::Json("a statement could not be read".into()))
            }
        }
    }

    /// The piece as a value of its own.
    pub(crate) fn to_value(&self) -> Result<Value, PolicyError> {
        match self {
            Piece::Text(t) => read(t),
            Piece::Owned(t) => read(t),
            Piece::Value(v) => Ok(v.clone()),
        }
    }

    /// The piece as a value, taken.
    fn into_value(self) -> Result<Value, PolicyError> {
        match self {
            Piece::Text(t) => read(t),
            Piece::Owned(t) => read(&t),
            Piece::Value(v) => Ok(v),
        }
    }

    /// Append the piece as compact JSON.
    pub(crate) fn write(&self, out: &mut String) -> Result<(), PolicyError> {
        match self {
            Piece::Text(t) => compact_into(out, t),
            Piece::Owned(t) => compact_into(out, t),
            Piece::Value(v) => out
                .push_str(&serde_json::to_string(v).map_err(|e| PolicyError::Json(e.to_string()))?),
        }
        Ok(())
    }
}

/// JSON text the fast path accepted (or a slice of it) as a value: exact without the
/// checked reader's duplicate bookkeeping, since that text holds no duplicate key.
fn read(t: &str) -> Result<Value, PolicyError> {
    serde_json::from_str(t).map_err(|e| PolicyError::Json(e.to_string()))
}

/// A document's members in order (its `Statement` among them, as a placeholder), and its
/// statements.
#[derive(Debug)]
pub(crate) struct Parts<'a> {
    /// Every member but `Statement`, in order, each with its key.
    pub(crate) members: Vec<(Cow<'a, str>, Piece<'a>)>,
    /// Where `Statement` stands among the members (`None`: it had none; it goes last).
    pub(crate) statement_at: Option<usize>,
    /// The statements, in order.
    pub(crate) statements: Vec<Piece<'a>>,
    /// `Statement` was one object, not a list.
    pub(crate) single: bool,
    /// Every part is a value (the document was read as one).
    pub(crate) values: bool,
    /// The length of the text it was read from (0 for a value).
    len: usize,
}

impl<'a> Parts<'a> {
    /// The document as one JSON object, with `statements` in the place its statements
    /// had (`single`: as one object), every other member as it was.
    pub(crate) fn into_value(
        self,
        statements: Vec<Piece<'_>>,
        single: bool,
    ) -> Result<Value, PolicyError> {
        let mut list = statements
            .into_iter()
            .map(Piece::into_value)
            .collect::<Result<Vec<Value>, _>>()?;
        let statement = if single && list.len() == 1 {
            list.remove(0)
        } else {
            Value::Array(list)
        };
        let mut statement = Some(statement);
        let mut out = Map::with_capacity(self.members.len() + 1);
        for (i, (key, value)) in self.members.into_iter().enumerate() {
            if self.statement_at == Some(i) {
                if let Some(s) = statement.take() {
                    out.insert("Statement".into(), s);
                }
            }
            out.insert(key.into_owned(), value.into_value()?);
        }
        if let Some(s) = statement {
            out.insert("Statement".into(), s);
        }
        Ok(Value::Object(out))
    }

    /// The document's JSON, compact, with `statements` in the place its statements had
    /// (`single`: as one object), every other member as it was.
    pub(crate) fn write_with<'p>(
        &self,
        statements: impl ExactSizeIterator<Item = &'p Piece<'p>>,
        single: bool,
    ) -> Result<String, PolicyError>
    where
        'a: 'p,
    {
        // About as long as the text it was read from: the plan only takes parts away.
        let mut out = String::with_capacity(self.len + 64);
        out.push('{');
        let mut statements = Some(statements);
        let mut write_statements = |out: &mut String| -> Result<(), PolicyError> {
            let Some(list) = statements.take() else {
                return Ok(());
            };
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str("\"Statement\":");
            let one = single && list.len() == 1;
            if !one {
                out.push('[');
            }
            for (i, s) in list.enumerate() {
                if i > 0 {
                    out.push(',');
                }
                s.write(out)?;
            }
            if !one {
                out.push(']');
            }
            Ok(())
        };
        for (i, (key, value)) in self.members.iter().enumerate() {
            if self.statement_at == Some(i) {
                write_statements(&mut out)?;
            }
            if out.len() > 1 {
                out.push(',');
            }
            out.push_str(
                &serde_json::to_string(key.as_ref())
                    .map_err(|e| PolicyError::Json(e.to_string()))?,
            );
            out.push(':');
            value.write(&mut out)?;
        }
        write_statements(&mut out)?;
        out.push('}');
        Ok(out)
    }
}

impl PolicyDocument {
    /// The document taken apart for a plan: from its text when it was read from text (a
    /// statement the plan cannot cut as text is read as a value when it is cut), else as
    /// the JSON object it was given as. Both are exact: text the fast path accepted holds
    /// no duplicate key, so serde_json reads it without the checked reader's bookkeeping.
    pub(crate) fn parts(&self) -> Result<Parts<'_>, PolicyError> {
        match self.text() {
            Some(text) => parts_of_text(text),
            None => parts_of_value(self.raw()?.clone()),
        }
    }
}

/// A statement's text with the principal entries at `cut` (indices in parse order, as
/// the typed statement counts its `n` entries) left out of its `Principal`: `Some(None)`
/// when no entry is left, `Some(Some(text))` the statement written again (every other
/// member as it was; each principal type keeps its string-or-list form, a type left
/// with no entry goes, as the value path writes it). `None` when the text is not of the
/// plain shape read here (a `Principal` that is not `"*"` or an object of strings and
/// lists of strings, or whose entries do not count `n`): the caller cuts the statement
/// as a value instead.
pub(crate) fn principal_cut(
    statement: &str,
    cut: &std::collections::BTreeSet<usize>,
    n: usize,
) -> Option<Option<String>> {
    let mut scan = Scan::new(statement);
    scan.expect(b'{').ok()?;
    let mut first = true;
    // The statement is a slice of text the fast path accepted, which has no key twice:
    // the first `Principal` is the one. Its value is read where it stands, once.
    loop {
        let key = scan.key(&mut first).ok()??;
        scan.space();
        if key == "Principal" {
            break;
        }
        scan.value().ok()?;
    }
    let start = scan.i;
    if scan.peek() == Some(b'"') {
        // `"Principal": "*"`: the statement's one entry.
        return (n == 1 && cut.contains(&0)).then_some(None);
    }
    scan.expect(b'{').ok()?;
    let mut out = String::with_capacity(statement.len());
    let mut index = 0usize;
    let mut kept: Vec<&str> = Vec::new();
    let mut first_key = true;
    while let Some(key) = scan.key(&mut first_key).ok()? {
        kept.clear();
        let was_string = scan.entries(|v| {
            if !cut.contains(&index) {
                kept.push(v);
            }
            index += 1;
        })?;
        if !kept.is_empty() {
            write_member(&mut out, &key, &kept, was_string)?;
        }
    }
    if index != n {
        return None;
    }
    if out.is_empty() {
        return Some(None);
    }
    out.push('}');
    let end = scan.i;
    let mut written = String::with_capacity(statement.len());
    written.push_str(&statement[..start]);
    written.push_str(&out);
    written.push_str(&statement[end..]);
    Some(Some(written))
}

fn parts_of_value(document: Map<String, Value>) -> Result<Parts<'static>, PolicyError> {
    let mut parts = Parts {
        members: Vec::with_capacity(document.len()),
        statement_at: None,
        statements: Vec::new(),
        single: false,
        values: true,
        len: 0,
    };
    for (key, value) in document {
        if key != "Statement" {
            parts.members.push((Cow::Owned(key), Piece::Value(value)));
            continue;
        }
        parts.statement_at = Some(parts.members.len());
        match value {
            Value::Array(list) => parts.statements = list.into_iter().map(Piece::Value).collect(),
            one => {
                parts.single = one.is_object();
                parts.statements = vec![Piece::Value(one)];
            }
        }
    }
    Ok(parts)
}

fn parts_of_text(text: &str) -> Result<Parts<'_>, PolicyError> {
    let mut parts = Parts {
        members: Vec::new(),
        statement_at: None,
        statements: Vec::new(),
        single: false,
        values: false,
        len: text.len(),
    };
    let mut scan = Scan::new(text);
    scan.expect(b'{')?;
    let mut first = true;
    while let Some(key) = scan.key(&mut first)? {
        if key != "Statement" {
            let value = scan.value()?;
            parts.members.push((key, Piece::Text(value)));
            continue;
        }
        if parts.statement_at.is_some() {
            return Err(PolicyError::Duplicate(crate::json::duplicate_message(
                "Statement",
            )));
        }
        parts.statement_at = Some(parts.members.len());
        // The list's elements found in the same pass.
        if scan.peek() == Some(b'[') {
            scan.i += 1;
            if scan.peek() == Some(b']') {
                scan.i += 1;
                continue;
            }
            loop {
                parts.statements.push(Piece::Text(scan.value()?));
                match scan.peek() {
                    Some(b',') => scan.i += 1,
                    Some(b']') => {
                        scan.i += 1;
                        break;
                    }
                    _ => return Err(scan.fault()),
                }
            }
        } else {
            let value = scan.value()?;
            parts.single = value.starts_with('{');
            parts.statements = vec![Piece::Text(value)];
        }
    }
    scan.end()?;
    Ok(parts)
}

/// Where the members of a JSON object (or the elements of an array) are in its text.
/// The text was read as JSON before (by the fast path, which refuses what serde_json
/// refuses), so its structure is all there is to find: outside strings, brackets and
/// commas. Anything other than that structure is an error, never a guess.
struct Scan<'a> {
    t: &'a str,
    i: usize,
}

impl<'a> Scan<'a> {
    fn new(t: &'a str) -> Scan<'a> {
        Scan { t, i: 0 }
    }

    fn fault(&self) -> PolicyError {
        PolicyError::Json(format!(
            "the policy's text could not be taken apart at byte {}",
            self.i
        ))
    }

    fn space(&mut self) {
        self.i = past_space(self.t.as_bytes(), self.i);
    }

    /// The next byte after white space, not consumed.
    fn peek(&mut self) -> Option<u8> {
        self.space();
        self.t.as_bytes().get(self.i).copied()
    }

    /// Past `c` (after white space), or an error.
    fn expect(&mut self, c: u8) -> Result<(), PolicyError> {
        if self.peek() != Some(c) {
            return Err(self.fault());
        }
        self.i += 1;
        Ok(())
    }

    /// Past the string whose opening quote is at `self.i`.
    fn string(&mut self) -> Result<(), PolicyError> {
        self.i = super::string_end(self.t.as_bytes(), self.i).ok_or_else(|| self.fault())?;
        Ok(())
    }

    /// Past the object or array whose opening bracket is at `self.i`. In valid JSON an
    /// object's braces balance outside strings whatever arrays are in it (and an array's
    /// brackets whatever objects): only its own kind of bracket, and strings, are looked for.
    fn close(&mut self, open: u8, close: u8) -> Result<(), PolicyError> {
        let b = self.t.as_bytes();
        // A local index, not the field: the loop runs once a byte.
        let mut i = self.i;
        let mut depth = 0usize;
        let end = loop {
            let Some(&c) = b.get(i) else {
                break None;
            };
            if c == b'"' {
                match super::string_end(b, i) {
                    Some(e) => i = e,
                    None => break None,
                }
                continue;
            }
            if c == open {
                depth += 1;
            } else if c == close {
                match depth.checked_sub(1) {
                    Some(0) => break Some(i + 1),
                    Some(d) => depth = d,
                    None => break None,
                }
            }
            i += 1;
        };
        match end {
            Some(e) => {
                self.i = e;
                Ok(())
            }
            None => {
                self.i = i;
                Err(self.fault())
            }
        }
    }

    /// The next value's text (after white space).
    fn value(&mut self) -> Result<&'a str, PolicyError> {
        self.space();
        let b = self.t.as_bytes();
        let start = self.i;
        match b.get(start) {
            Some(b'"') => self.string()?,
            Some(b'{') => self.close(b'{', b'}')?,
            Some(b'[') => self.close(b'[', b']')?,
            Some(_) => {
                while b.get(self.i).is_some_and(|c| {
                    !matches!(c, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                }) {
                    self.i += 1;
                }
            }
            None => return Err(self.fault()),
        }
        if self.i == start {
            return Err(self.fault());
        }
        self.t.get(start..self.i).ok_or_else(|| self.fault())
    }

    /// The next member's key (the object's `{` read before), past its `:`; `None` past
    /// the object's end. `first`: no member was read yet.
    fn key(&mut self, first: &mut bool) -> Result<Option<Cow<'a, str>>, PolicyError> {
        match (self.peek(), *first) {
            (Some(b'}'), _) => {
                self.i += 1;
                return Ok(None);
            }
            (Some(b','), false) => self.i += 1,
            (Some(b'"'), true) => {}
            _ => return Err(self.fault()),
        }
        *first = false;
        if self.peek() != Some(b'"') {
            return Err(self.fault());
        }
        let start = self.i;
        self.string()?;
        let quoted = self.t.get(start..self.i).ok_or_else(|| self.fault())?;
        // Most keys hold no escape: the text between the quotes is the key.
        let key = match quoted.get(1..quoted.len().saturating_sub(1)) {
            Some(plain) if !plain.contains('\\') => Cow::Borrowed(plain),
            _ => serde_json::from_str(quoted).map_err(|e| PolicyError::Json(e.to_string()))?,
        };
        self.expect(b':')?;
        Ok(Some(key))
    }

    /// One principal type's value where it stands: a string, or a list of strings, each
    /// entry's text given to `each` in order. Whether it was a string; `None` for any
    /// other shape.
    fn entries(&mut self, mut each: impl FnMut(&'a str)) -> Option<bool> {
        match self.peek()? {
            b'"' => {
                each(self.value().ok()?);
                Some(true)
            }
            b'[' => {
                self.i += 1;
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Some(false);
                }
                loop {
                    if self.peek() != Some(b'"') {
                        return None;
                    }
                    each(self.value().ok()?);
                    match self.peek()? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Some(false);
                        }
                        _ => return None,
                    }
                }
            }
            _ => None,
        }
    }

    /// The members of the object that is the whole text, in order.
    #[cfg(test)]
    fn object(mut self) -> Result<Vec<(Cow<'a, str>, &'a str)>, PolicyError> {
        let mut out = Vec::new();
        self.expect(b'{')?;
        let mut first = true;
        while let Some(key) = self.key(&mut first)? {
            out.push((key, self.value()?));
        }
        self.end()?;
        Ok(out)
    }

    /// The elements of the array that is the whole text, in order.
    #[cfg(test)]
    fn array(mut self) -> Result<Vec<&'a str>, PolicyError> {
        let mut out = Vec::new();
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
        } else {
            loop {
                out.push(self.value()?);
                match self.peek() {
                    Some(b',') => self.i += 1,
                    Some(b']') => {
                        self.i += 1;
                        break;
                    }
                    _ => return Err(self.fault()),
                }
            }
        }
        self.end()?;
        Ok(out)
    }

    /// Nothing but white space is left.
    fn end(&mut self) -> Result<(), PolicyError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.fault()),
        }
    }
}

/// Is `t` (JSON text read before: valid) exactly what serde_json writes, compact, for
/// the value it reads as? So it is when it holds no escape (serde_json writes every
/// other character of a string as it is), no number (serde_json may spell one
/// otherwise: `-0`, `1E2`, `1.50`) and no white space outside strings. Member order is
/// kept by the `preserve_order` reading; a key given twice is not in text read before.
pub(crate) fn as_serde_json_writes(t: &str) -> bool {
    let b = t.as_bytes();
    if b.contains(&b'\\') {
        return false;
    }
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            b'"' => match super::string_end(b, i) {
                Some(end) => i = end,
                None => return false,
            },
            b'{' | b'}' | b'[' | b']' | b':' | b',' | b't' | b'r' | b'u' | b'e' | b'f' | b'a'
            | b'l' | b's' | b'n' => i += 1,
            _ => return false,
        }
    }
    true
}

/// Append one principal type with the entries `kept` (their text), as a string when it
/// was one and one is left, else as a list.
fn write_member(out: &mut String, key: &str, kept: &[&str], was_string: bool) -> Option<()> {
    out.push(if out.is_empty() { '{' } else { ',' });
    out.push_str(&serde_json::to_string(key).ok()?);
    out.push(':');
    match kept {
        [one] if was_string => out.push_str(one),
        _ => {
            out.push('[');
            for (i, v) in kept.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(v);
            }
            out.push(']');
        }
    }
    Some(())
}

/// Append JSON text without its insignificant white space. The text is valid JSON (read
/// before): outside strings, white space is all there is to leave out.
pub(crate) fn compact_into(out: &mut String, t: &str) {
    let b = t.as_bytes();
    // Text with no space or control byte anywhere is compact already (a policy from a
    // CloudTrail event, or as S3 gives it back): copied whole.
    if !crate::json::any_space_or_control(b) {
        out.push_str(t);
        return;
    }
    out.reserve(b.len());
    // Copied a run at a time: a run ends at white space, strings are stepped over whole.
    let mut run = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        match c {
            // A string, its quotes included; an unclosed one (not in text read before)
            // runs to the end.
            b'"' => i = super::string_end(b, i).unwrap_or(b.len()),
            b' ' | b'\t' | b'\n' | b'\r' => {
                out.push_str(&t[run..i]);
                i = past_space(b, i);
                run = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&t[run..]);
}

/// Where the white space at `i` ends: indentation, the most of it in pretty text, eight
/// spaces at a time.
fn past_space(b: &[u8], mut i: usize) -> usize {
    const SPACES: u64 = u64::from_le_bytes(*b"        ");
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        if u64::from_le_bytes(*chunk) != SPACES {
            break;
        }
        i += 8;
    }
    while b
        .get(i)
        .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_text_reads_as_the_same_value() {
        let texts = [
            "{}",
            " { \"a\" : [ 1 , 2.5e3, true, null ] ,\n\t\"b\" : \"x y\" } ",
            r#"{"k":"a \"quoted\" word","l":"\\","m":"\\\"","n":"é \u00e9 \/ tab\t"}"#,
            "{\"nested\": {\"deep\": [[[ {\"x\": \"  spaces  \"} ]]]}}",
            TRICKY,
            // Compact already; spaces only in strings; white space only at the end.
            r#"{"a":[1,{"b":"c\"d"}],"e":"\u00e9"}"#,
            r#"{"a":"x y","b":[" ",1,"\" "]}"#,
            "{\"a\":1}\n",
            // Runs of spaces of every length around eight, and tabs among them.
            "{\n                \"a\" :\t [ 1 ,\n\t        \"x        y\" ]         ,       \"b\":        {}}               ",
            "{ \"a\":[        ],\"b\":\"         \"         \t        \n}",
        ];
        for t in texts {
            let mut out = String::new();
            compact_into(&mut out, t);
            let want: Value = serde_json::from_str(t).unwrap();
            let got: Value = serde_json::from_str(&out).unwrap();
            assert_eq!(got, want, "{t} → {out}");
            assert!(!out.contains('\n'), "{out}");
            // Nothing but white space outside strings left out.
            assert_eq!(out.len(), super::super::compact_len_of_text(t), "{t}");
        }
    }

    const TRICKY: &str = "{ \"Version\" : \"2012-10-17\",\n \"Id\":\"a}b]c,d\\\"{[\",\"N\":-1.5e+3 , \"T\":true,\"Z\":null,\r\n\t\"Statement\" : [ {\"Sid\":\"\\\\\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":[\"1\",\"é\\u00e9\"]},\"Action\":\"x\",\"Resource\":\"*\",\"Condition\":{}} , {\"Sid\":\"[]{}\",\"Effect\":\"Deny\",\"Principal\":\"*\",\"NotAction\":[],\"Resource\":[[[]]]} ] , \"E\":{} ,\"K\\u0041\":[ ]}";

    /// The spans found are the members and elements serde_json finds.
    #[test]
    fn scan_finds_what_serde_json_finds() {
        use serde_json::value::RawValue;
        let members = Scan::new(TRICKY).object().unwrap();
        let want: Vec<(String, &RawValue)> = {
            let map: indexmap_free::Members = serde_json::from_str(TRICKY).unwrap();
            map.0
        };
        assert_eq!(members.len(), want.len());
        for ((k, v), (wk, wv)) in members.iter().zip(&want) {
            assert_eq!(k, wk);
            assert_eq!(*v, wv.get());
        }
        let statements = members.iter().find(|(k, _)| k == "Statement").unwrap().1;
        let list = Scan::new(statements).array().unwrap();
        let want: Vec<&RawValue> = serde_json::from_str(statements).unwrap();
        assert_eq!(list, want.iter().map(|r| r.get()).collect::<Vec<_>>());
        assert_eq!(members.last().unwrap().0, "KA");
    }

    /// Text that is not whole JSON is an error, at every place it can break: never a
    /// panic, never a part made up.
    #[test]
    fn scan_refuses_broken_text() {
        for n in 0..TRICKY.len() {
            let Some(prefix) = TRICKY.get(..n) else {
                continue;
            };
            if prefix.trim_end().len() < TRICKY.trim_end().len() {
                assert!(Scan::new(prefix).object().is_err(), "{prefix:?}");
            }
        }
        for t in [
            "{} x",
            "{\"a\" 1}",
            "{\"a\":1,}",
            "{\"a\":}",
            "{1:2}",
            "[1,]",
            "{\"a\":]}",
            "{\"a\":1]",
        ] {
            assert!(Scan::new(t).object().is_err(), "{t}");
        }
        assert!(Scan::new("[1 2]").array().is_err());
    }

    /// Edge texts the fast path accepts (escapes at string ends, brackets and commas in
    /// strings, number spellings, nested empties, multibyte text, every white space, a
    /// lone statement first or last, an empty list): the parts found are serde_json's,
    /// and the document written back is the text compacted.
    #[test]
    fn edge_texts_are_taken_apart_as_serde_json_reads_them() {
        let st =
            r#"{"Effect":"Allow","Principal":{"AWS":"1"},"Action":"s3:GetObject","Resource":"*"}"#;
        let templates = [
            r#"{"Id":"a\\","Statement":[ST,{"Sid":"\"}],","Effect":"Deny","Principal":"*","Action":"x","Resource":"*","X":"\\\""}],"Z":"}]\\"}"#,
            r#"{"N":-0,"E":1e5,"F":-1.5E-3,"B":123456789012345678901234567890,"Statement":[ST]}"#,
            r#"{"A":[[],{},[{}],{"a":[]}],"Statement":[ ST , ST ],"O":{}}"#,
            "{\"é\":\"ü\",\"Statement\":[ST],\"日本\":[\"語\",{\"ß\":\"\\u00e9\"}],\"x\":\"ü\\\"\"}",
            "{\t\r\n\"Statement\"\t:\n[\rST\t]\r,\n\"Id\" : \"x\"\t}",
            r#"{"Statement":ST,"Version":"2012-10-17"}"#,
            r#"{"Version":"2012-10-17","Statement":ST}"#,
            r#"{"Statement":[ST],"M":{"K\u0041":1,"\\":2,"\"":3,"\u00e9":"\ud83d\ude00"}}"#,
            r#"{"Statement":[]}"#,
        ];
        for t in templates {
            let t = t.replace("ST", st);
            let doc = PolicyDocument::parse(&t).unwrap();
            assert!(doc.read_from_text(), "{t}");
            let text = doc.text().unwrap();
            let got = Scan::new(text).object().unwrap();
            let want: indexmap_free::Members = serde_json::from_str(text).unwrap();
            assert_eq!(got.len(), want.0.len(), "{t}");
            for ((k, v), (wk, wv)) in got.iter().zip(&want.0) {
                assert_eq!(k, wk, "{t}");
                assert_eq!(*v, wv.get(), "{t}");
            }
            let parts = doc.parts().unwrap();
            let raw = doc.raw_statements().unwrap();
            assert_eq!(parts.statements.len(), doc.statements.len(), "{t}");
            assert_eq!(parts.statements.len(), raw.len(), "{t}");
            for (p, r) in parts.statements.iter().zip(&raw) {
                assert_eq!(&p.to_value().unwrap(), r, "{t}");
            }
            assert_eq!(
                parts.single,
                doc.raw().unwrap()["Statement"].is_object(),
                "{t}"
            );
            let written = parts
                .write_with(parts.statements.iter(), parts.single)
                .unwrap();
            let mut compact = String::new();
            compact_into(&mut compact, text);
            assert_eq!(written, compact, "{t}");
            assert_eq!(
                serde_json::from_str::<Value>(&written).unwrap(),
                doc.to_json().unwrap(),
                "{t}"
            );
        }
    }

    mod indexmap_free {
        use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
        use serde_json::value::RawValue;

        /// An object's members in order, each value as its text.
        pub struct Members<'a>(pub Vec<(String, &'a RawValue)>);

        impl<'de: 'a, 'a> Deserialize<'de> for Members<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Members<'de>;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut m: A,
                    ) -> Result<Members<'de>, A::Error> {
                        let mut out = Vec::new();
                        while let Some(k) = m.next_key::<String>()? {
                            out.push((k, m.next_value()?));
                        }
                        Ok(Members(out))
                    }
                }
                d.deserialize_map(V)
            }
        }
    }

    #[test]
    fn parts_of_text_and_of_value_write_the_same_document() {
        let texts = [
            r#"{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}],"Extra":{"a":[1,2]}}"#,
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":"1"},"Action":"x","Resource":"*"},"Version":"2012-10-17"}"#,
            "{ \"Version\" : \"2012-10-17\" ,\n  \"Statement\" : [\n  ] }",
        ];
        for t in texts {
            let doc = PolicyDocument::parse(t).unwrap();
            assert!(doc.read_from_text(), "{t}");
            let from_text = doc.parts().unwrap();
            let from_value = parts_of_value(doc.raw().unwrap().clone()).unwrap();
            let a = from_text
                .write_with(from_text.statements.iter(), from_text.single)
                .unwrap();
            let b = from_value
                .write_with(from_value.statements.iter(), from_value.single)
                .unwrap();
            assert_eq!(a, b, "{t}");
            assert_eq!(
                serde_json::from_str::<Value>(&a).unwrap(),
                *doc.to_json().as_ref().unwrap()
            );
            assert_eq!(a, serde_json::to_string(&doc.to_json().unwrap()).unwrap());
        }
    }
}
