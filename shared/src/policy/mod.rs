//! Resource-policy documents in every form AWS delivers them: a JSON object (S3's
//! `bucketPolicy` in CloudTrail), a JSON string (IAM/KMS request parameters), a
//! URL-encoded string (IAM Get APIs, IAM `responseElements`), or a string holding any
//! of those. The typed view keeps the raw JSON beside it so a remediation can edit the
//! document surgically and leave every field it does not understand untouched.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::OnceLock;

mod fast;
mod model;
mod parts;
mod reference;

pub(crate) use parts::{as_serde_json_writes, compact_into, principal_cut, Parts, Piece};

pub(crate) use reference::json_type;
use reference::parse_statement;

pub use model::*;

/// A statement as a plan wrote it: a JSON value, or text.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Given<'a> {
    Value(&'a Value),
    Text(&'a str),
}

/// A resource policy: its statements as the analysis reads them, and its JSON as given.
#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// The document as given, decoded to a JSON object; read from `text` on first use
    /// (only a remediation plan needs it). The fast path read the same text with the same
    /// rules, so this cannot fail; if it ever did, the error stands and nothing is guessed.
    raw: OnceLock<Result<Map<String, Value>, PolicyError>>,
    /// The document's JSON text, when it was parsed from text.
    text: Option<String>,
    /// The statements, in document order.
    pub statements: Vec<Statement>,
}

impl PartialEq for PolicyDocument {
    fn eq(&self, other: &PolicyDocument) -> bool {
        self.statements == other.statements && self.raw().ok() == other.raw().ok()
    }
}

impl PolicyDocument {
    /// Parse a document from text in any of its delivered forms.
    pub fn parse(text: &str) -> Result<PolicyDocument, PolicyError> {
        let json = decode_text(text, 0)?;
        match fast::statements(&json) {
            Some(statements) => Ok(PolicyDocument {
                statements: condition_keys_once(statements)?,
                raw: OnceLock::new(),
                text: Some(json.into_owned()),
            }),
            None => PolicyDocument::from_value(strict_value(&json)?),
        }
    }

    /// Was it read by the fast path (straight from text)? For tests and benchmarks.
    #[doc(hidden)]
    pub fn read_from_text(&self) -> bool {
        self.text.is_some()
    }

    /// The JSON text the document was read from, when the fast path read it.
    pub(crate) fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// The document as a JSON object.
    pub fn raw(&self) -> Result<&Map<String, Value>, PolicyError> {
        self.raw
            .get_or_init(|| match self.text.as_deref().map(strict_value) {
                Some(Ok(Value::Object(map))) => Ok(map),
                Some(Ok(other)) => Err(PolicyError::NotObject(json_type(&other))),
                Some(Err(e)) => Err(e),
                None => Err(PolicyError::Json("the document has no text".into())),
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// Parse a document that arrived as a JSON value (an object, or a string holding one).
    pub fn from_json(value: &Value) -> Result<PolicyDocument, PolicyError> {
        match value {
            Value::String(s) => PolicyDocument::parse(s),
            Value::Object(_) => PolicyDocument::from_value(value.clone()),
            other => Err(PolicyError::NotObject(json_type(other))),
        }
    }

    /// A document from a JSON value (an object, or a string holding one).
    pub fn from_value(value: Value) -> Result<PolicyDocument, PolicyError> {
        let Value::Object(raw) = value else {
            return Err(PolicyError::NotObject(json_type(&value)));
        };
        model::refuse_element_in_other_case(raw.keys(), model::DOCUMENT_ELEMENTS, String::new)?;
        let statements = match raw.get("Statement") {
            None | Some(Value::Null) => return Err(PolicyError::NoStatement),
            Some(Value::Array(list)) => list
                .iter()
                .enumerate()
                .map(|(i, s)| parse_statement(i, s))
                .collect::<Result<Vec<_>, _>>()?,
            Some(single @ Value::Object(_)) => vec![parse_statement(0, single)?],
            Some(other) => {
                return Err(PolicyError::Statement {
                    index: 0,
                    reason: format!(
                        "Statement must be an object or a list, found {}",
                        json_type(other)
                    ),
                })
            }
        };
        let statements = condition_keys_once(statements)?;
        Ok(PolicyDocument {
            raw: OnceLock::from(Ok(raw)),
            text: None,
            statements,
        })
    }

    /// The raw statements, always as a list (a lone statement object becomes a list of one).
    pub fn raw_statements(&self) -> Result<Vec<Value>, PolicyError> {
        Ok(match self.raw()?.get("Statement") {
            Some(Value::Array(list)) => list.clone(),
            Some(single) => vec![single.clone()],
            None => Vec::new(),
        })
    }

    /// Statements a plan wrote, each with its index, parsed as a document's are: text by
    /// the fast path (by the value path where the fast path declines it, which also words
    /// the error), values as [`PolicyDocument::from_value`] parses them. What a plan wrote,
    /// read back for its check.
    pub(crate) fn parse_statements<'a>(
        list: impl Iterator<Item = (usize, Given<'a>)>,
    ) -> Result<Vec<Statement>, PolicyError> {
        let statements = list
            .map(|(i, given)| match given {
                Given::Value(v) => parse_statement(i, v),
                Given::Text(t) => match fast::statement_text(i, t) {
                    Some(s) => Ok(s),
                    None => parse_statement(i, &strict_value(t)?),
                },
            })
            .collect::<Result<Vec<_>, _>>()?;
        condition_keys_once(statements)
    }

    /// Size as AWS counts it for its limits: without insignificant white space.
    pub fn compact_len(&self) -> usize {
        match &self.text {
            Some(t) => compact_len_of_text(t),
            // Unreadable counts as over every limit: never smaller than it is.
            None => self
                .raw()
                .ok()
                .and_then(|raw| serde_json::to_vec(raw).ok())
                .map_or(usize::MAX, |v| v.len()),
        }
    }

    /// The size as [`PolicyDocument::compact_len`] counts it, when that is over `limit`.
    /// Text no longer than the limit is within it without counting: white space only
    /// shrinks the count.
    pub fn over_limit(&self, limit: usize) -> Option<usize> {
        if self.text.as_ref().is_some_and(|t| t.len() <= limit) {
            return None;
        }
        Some(self.compact_len()).filter(|&n| n > limit)
    }

    /// The document's JSON object, exactly as given.
    pub fn to_json(&self) -> Result<Value, PolicyError> {
        Ok(Value::Object(self.raw()?.clone()))
    }
}

/// Bytes of JSON text outside insignificant white space. A string counts whole, its
/// quotes included; its end is found a word at a time (most of a policy is strings).
fn compact_len_of_text(t: &str) -> usize {
    let b = t.as_bytes();
    let (mut n, mut i) = (0, 0);
    while let Some(&c) = b.get(i) {
        if c != b'"' {
            n += usize::from(!c.is_ascii_whitespace());
            i += 1;
            continue;
        }
        // Past the closing quote; an unclosed string counts to the end of the text (never
        // less than it is).
        let end = string_end(b, i).unwrap_or(b.len());
        n += end - i;
        i = end;
    }
    n
}

/// Just past the closing quote of the string whose opening quote is at `open`, its plain
/// bytes stepped over eight at a time (most of a policy is strings); `None` when the text
/// ends first.
fn string_end(b: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    loop {
        while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            let k = crate::json::first_special(chunk);
            i += k;
            if k < 8 {
                break;
            }
        }
        match b.get(i)? {
            b'"' => return Some(i + 1),
            // A backslash: the byte after it is escaped.
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
}

/// Condition keys are case-insensitive in IAM: `aws:PrincipalAccount` and
/// `aws:principalaccount` under one operator are the same key given twice, which no
/// reader can be trusted to resolve (SPEC §1: a duplicate key is an error).
fn condition_keys_once(statements: Vec<Statement>) -> Result<Vec<Statement>, PolicyError> {
    for st in &statements {
        let c = &st.conditions;
        for (i, a) in c.iter().enumerate() {
            if let Some(b) = c[..i]
                .iter()
                .find(|b| b.operator == a.operator && b.key.eq_ignore_ascii_case(&a.key))
            {
                return Err(PolicyError::Duplicate(crate::json::duplicate_message(
                    &format!(
                        "Statement[{}].Condition.{}.{} (as {})",
                        st.index, a.operator, a.key, b.key
                    ),
                )));
            }
        }
    }
    Ok(statements)
}

/// JSON text to a value, exactly: a duplicate key anywhere is refused with its path.
fn strict_value(text: &str) -> Result<Value, PolicyError> {
    let checked = crate::json::from_str(text).map_err(|e| PolicyError::Json(e.to_string()))?;
    match checked.duplicate_reason("") {
        Some(why) => Err(PolicyError::Duplicate(why)),
        None => Ok(checked.value),
    }
}

/// Decode text to a JSON value, unwrapping JSON-string and URL-encoding layers.
/// Unwrap JSON-string and URL-encoding layers down to the JSON object's text.
fn decode_text(text: &str, depth: u8) -> Result<Cow<'_, str>, PolicyError> {
    if text.len() > MAX_INPUT_BYTES {
        return Err(PolicyError::InputTooLarge(text.len()));
    }
    let t = text.trim_start_matches('\u{feff}').trim();
    if depth > 3 {
        return Err(PolicyError::Json(
            "policy is wrapped in too many layers of encoding".into(),
        ));
    }
    if t.starts_with('{') {
        return Ok(Cow::Borrowed(t));
    }
    if t.starts_with('"') {
        let inner: String =
            serde_json::from_str(t).map_err(|e| PolicyError::Json(e.to_string()))?;
        return decode_text(&inner, depth + 1).map(|c| Cow::Owned(c.into_owned()));
    }
    if t.starts_with("%7B") || t.starts_with("%7b") || t.starts_with("%22") || t.starts_with('%') {
        let decoded = percent_encoding::percent_decode_str(t)
            .decode_utf8()
            .map_err(|e| PolicyError::UrlEncoding(e.to_string()))?;
        if decoded == t {
            return Err(PolicyError::UrlEncoding(format!(
                "{:?} decodes to itself",
                t.chars().take(20).collect::<String>()
            )));
        }
        return decode_text(&decoded, depth + 1).map(|c| Cow::Owned(c.into_owned()));
    }
    if t.is_empty() {
        return Err(PolicyError::Json("policy is empty".into()));
    }
    Err(PolicyError::Json(format!(
        "expected a JSON object, a JSON string or URL-encoded JSON, found text starting {:?}",
        t.chars().take(20).collect::<String>()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::222222222222:root"],"Service":"s3.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":true},"StringEquals":{"aws:SourceAccount":["1","2"]}}}}"#;

    #[test]
    fn parses_all_delivered_forms() {
        let direct = PolicyDocument::parse(DOC).unwrap();
        let as_string = PolicyDocument::parse(&serde_json::to_string(DOC).unwrap()).unwrap();
        let encoded: String =
            percent_encoding::utf8_percent_encode(DOC, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        let url = PolicyDocument::parse(&encoded).unwrap();
        let url_in_string =
            PolicyDocument::parse(&serde_json::to_string(&encoded).unwrap()).unwrap();
        assert_eq!(direct, as_string);
        assert_eq!(direct, url);
        assert_eq!(direct, url_in_string);
        let s = &direct.statements[0];
        assert_eq!(s.effect, Effect::Allow);
        let Principals::Listed(p) = &s.principals else {
            panic!()
        };
        assert_eq!(p.len(), 3);
        assert_eq!(*s.actions, Actions::Listed(vec!["s3:GetObject".into()]));
        assert_eq!(s.conditions.len(), 2);
        assert_eq!(s.conditions[0].values, vec!["true"]);
        assert_eq!(s.conditions[1].values, vec!["1", "2"]);
    }

    #[test]
    fn compact_length_counts_strings_whole() {
        // The byte-at-a-time count it replaced, as the reference.
        fn slow(t: &str) -> usize {
            let (mut n, mut in_string, mut escaped) = (0, false, false);
            for b in t.bytes() {
                if in_string {
                    n += 1;
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                    }
                } else if b == b'"' {
                    in_string = true;
                    n += 1;
                } else if !b.is_ascii_whitespace() {
                    n += 1;
                }
            }
            n
        }
        for t in [
            "",
            " { } ",
            r#"{ "a b" : [ "x\" y", "\\", "" ] }"#,
            r#"{"k": "ends in a backslash\"#,
            r#"{"k": "unclosed  "#,
            "\"\\",
            "\"é \\\" x\"  \t\n 1",
            DOC,
        ] {
            assert_eq!(compact_len_of_text(t), slow(t), "{t:?}");
        }
    }

    #[test]
    fn over_limit_counts_only_what_could_be_over() {
        let compact = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}"#;
        let padded = compact.replace(',', " ,   \n ");
        let n = compact.len();
        for text in [compact, padded.as_str()] {
            let doc = PolicyDocument::parse(text).unwrap();
            assert!(doc.read_from_text());
            assert_eq!(doc.compact_len(), n);
            // Longer text than the limit, yet within it once white space is left out.
            assert_eq!(doc.over_limit(n), None, "{text}");
            assert_eq!(doc.over_limit(n - 1), Some(n), "{text}");
        }
        // Read from a value: no text to measure, the count is of its compact JSON.
        let value: Value = serde_json::from_str(compact).unwrap();
        let doc = PolicyDocument::from_value(value).unwrap();
        assert_eq!(doc.over_limit(n), None);
        assert_eq!(doc.over_limit(n - 1), Some(n));
    }

    /// A plan reads text the fast path accepted without the duplicate bookkeeping: that
    /// is exact only because the fast path leaves every duplicate key, at any level, to
    /// the checked reading.
    #[test]
    fn the_fast_path_declines_every_duplicate_key() {
        let st =
            r#"{"Effect":"Allow","Principal":{"AWS":"1"},"Action":"s3:GetObject","Resource":"*"}"#;
        let plain = format!(r#"{{"Version":"2012-10-17","Statement":[{st}]}}"#);
        assert!(PolicyDocument::parse(&plain).unwrap().read_from_text());
        let dupes = [
            format!(r#"{{"Version":"1","Version":"2","Statement":[{st}]}}"#),
            format!(r#"{{"Statement":[{st}],"Statement":[]}}"#),
            r#"{"Statement":[{"Effect":"Allow","Effect":"Deny","Principal":"*","Action":"x"}]}"#.into(),
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"1","AWS":"2"},"Action":"x"}]}"#.into(),
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"x","Condition":{"StringEquals":{"k":"1"},"StringEquals":{"k":"2"}}}]}"#.into(),
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"x","Condition":{"StringEquals":{"k":"1","k":"2"}}}]}"#.into(),
            format!(r#"{{"Unknown":{{"a":{{"b":1,"b":2}}}},"Statement":[{st}]}}"#),
            format!(r#"{{"Unknown":[{{"c":1,"c":2}}],"Statement":[{st}]}}"#),
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"x","Extra":{"d":1,"d":2}}]}"#.into(),
            format!(r#"{{"Vers\u0069on":"1","Version":"2","Statement":[{st}]}}"#),
        ];
        for text in &dupes {
            // Either refused outright or read by the checked path: never the fast one.
            if let Ok(doc) = PolicyDocument::parse(text) {
                assert!(!doc.read_from_text(), "{text}");
            }
        }
    }

    #[test]
    fn star_and_not_forms() {
        let d = PolicyDocument::parse(
            r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"NotAction":["s3:Delete*"],"NotResource":"x"}]}"#,
        )
        .unwrap();
        assert!(matches!(
            d.statements[0].principals,
            Principals::AllExcept(_)
        ));
        assert!(matches!(*d.statements[0].actions, Actions::AllExcept(_)));
        assert!(d.statements[0].not_resource);
    }

    #[test]
    fn clear_errors() {
        let cases = [
            ("", "empty"),
            ("[1]", "expected a JSON object"),
            ("{", "not valid JSON"),
            ("{}", "no Statement"),
            (
                r#"{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"x"}]}"#,
                "Effect must be",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Action":"x"}]}"#,
                "has no Principal",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"me","Action":"x"}]}"#,
                "Principal must be",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
                "has no Action",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":[1]}]}"#,
                "must be strings",
            ),
            (
                r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"x","Condition":{"StringEquals":{"k":{"a":1}}}}]}"#,
                "scalars",
            ),
            ("%ZZ", "URL-encoded"),
        ];
        for (input, want) in cases {
            let err = PolicyDocument::parse(input).unwrap_err().to_string();
            assert!(err.contains(want), "{input:?}: {err}");
        }
        let huge = format!(
            "{{\"Statement\":[],\"x\":\"{}\"}}",
            "a".repeat(MAX_INPUT_BYTES)
        );
        assert!(matches!(
            PolicyDocument::parse(&huge),
            Err(PolicyError::InputTooLarge(_))
        ));
    }
}
