//! Resource-policy documents in every form AWS delivers them: a JSON object (S3's
//! `bucketPolicy` in CloudTrail), a JSON string (IAM/KMS request parameters), a
//! URL-encoded string (IAM Get APIs, IAM `responseElements`), or a string holding any
//! of those. The typed view keeps the raw JSON beside it so a remediation can edit the
//! document surgically and leave every field it does not understand untouched.

use crate::principal::PrincipalType;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

/// Refuse anything larger before parsing: no real policy comes close (the largest AWS
/// allows is a 32 KB key policy), and the guard must not be made to chew on megabytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy is {0} bytes; refusing input over {MAX_INPUT_BYTES} bytes")]
    InputTooLarge(usize),
    #[error("policy is not valid JSON: {0}")]
    Json(String),
    #[error("policy is not URL-encoded JSON: {0}")]
    UrlEncoding(String),
    #[error("policy must be a JSON object, found {0}")]
    NotObject(&'static str),
    #[error("policy has no Statement")]
    NoStatement,
    #[error("policy has a {0}")]
    Duplicate(String),
    #[error("statement {index}: {reason}")]
    Statement { index: usize, reason: String },
    #[error("policy is {size} bytes without white space, over the {limit}-byte limit AWS sets for a {what}")]
    OverLimit {
        size: usize,
        limit: usize,
        what: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub kind: PrincipalType,
    pub value: String,
}

impl PrincipalEntry {
    /// How a person reads it in a report: `*`, an ARN, a service name.
    pub fn display(&self) -> String {
        match self.kind {
            PrincipalType::Star => "*".into(),
            PrincipalType::Aws => self.value.clone(),
            PrincipalType::Service => format!("Service:{}", self.value),
            PrincipalType::Federated => format!("Federated:{}", self.value),
            PrincipalType::CanonicalUser => format!("CanonicalUser:{}", self.value),
            PrincipalType::Other => format!("?:{}", self.value),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `Principal`: these entries.
    Listed(Vec<PrincipalEntry>),
    /// `NotPrincipal`: everyone except these.
    AllExcept(Vec<PrincipalEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Listed(Vec<String>),
    /// `NotAction`: every action but these.
    AllExcept(Vec<String>),
}

/// One condition: `{"StringEquals": {"aws:PrincipalAccount": ["1", "2"]}}` gives
/// operator `StringEquals`, key `aws:PrincipalAccount`, values `["1", "2"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principals: Principals,
    /// Shared with every grant and finding of the statement: cloned by pointer.
    pub actions: Arc<Actions>,
    /// `Resource` values; empty when absent (role trust policies have none).
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone)]
pub struct PolicyDocument {
    /// The document as given, decoded to a JSON object; read from `text` on first use
    /// (only a remediation plan needs it). The fast path read the same text with the same
    /// rules, so this cannot fail; if it ever did, the error stands and nothing is guessed.
    raw: OnceLock<Result<Map<String, Value>, PolicyError>>,
    /// The document's JSON text, when it was parsed from text.
    text: Option<String>,
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
        match crate::fastparse::statements(&json) {
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

    pub fn from_value(value: Value) -> Result<PolicyDocument, PolicyError> {
        let Value::Object(raw) = value else {
            return Err(PolicyError::NotObject(json_type(&value)));
        };
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

    pub fn to_json(&self) -> Result<Value, PolicyError> {
        Ok(Value::Object(self.raw()?.clone()))
    }
}

/// Bytes of JSON text outside insignificant white space.
fn compact_len_of_text(t: &str) -> usize {
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

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
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

fn bad(index: usize, reason: impl Into<String>) -> PolicyError {
    PolicyError::Statement {
        index,
        reason: reason.into(),
    }
}

/// A string or a list of strings (how IAM writes most of its fields).
fn string_list(index: usize, field: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => Ok(s.clone()),
                other => Err(bad(
                    index,
                    format!(
                        "{field} entries must be strings, found {}",
                        json_type(other)
                    ),
                )),
            })
            .collect(),
        other => Err(bad(
            index,
            format!(
                "{field} must be a string or a list of strings, found {}",
                json_type(other)
            ),
        )),
    }
}

/// Condition values may also be booleans and numbers (`"Bool": {"aws:SecureTransport": false}`).
fn scalar_list(index: usize, key: &str, v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |x: &Value| match x {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(bad(
            index,
            format!(
                "condition {key}: values must be scalars, found {}",
                json_type(other)
            ),
        )),
    };
    match v {
        Value::Array(items) => items.iter().map(one).collect(),
        x => Ok(vec![one(x)?]),
    }
}

fn parse_principals(
    index: usize,
    field: &str,
    v: &Value,
) -> Result<Vec<PrincipalEntry>, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![PrincipalEntry {
            kind: PrincipalType::Star,
            value: "*".into(),
        }]),
        Value::String(s) => Err(bad(
            index,
            format!(
                "{field} must be \"*\" or an object, found {}",
                crate::json::excerpt(s)
            ),
        )),
        Value::Object(map) => {
            let mut out = Vec::new();
            for (key, values) in map {
                let kind = PrincipalType::from_key(key);
                for value in string_list(index, &format!("{field}.{key}"), values)? {
                    out.push(PrincipalEntry { kind, value });
                }
            }
            Ok(out)
        }
        other => Err(bad(
            index,
            format!(
                "{field} must be \"*\" or an object, found {}",
                json_type(other)
            ),
        )),
    }
}

fn parse_statement(index: usize, v: &Value) -> Result<Statement, PolicyError> {
    let Value::Object(s) = v else {
        return Err(bad(
            index,
            format!("a statement must be an object, found {}", json_type(v)),
        ));
    };
    let sid = match s.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(x)) => Some(x.clone()),
        Some(other) => Some(other.to_string()),
    };
    let effect = match s.get("Effect") {
        Some(Value::String(e)) if e == "Allow" => Effect::Allow,
        Some(Value::String(e)) if e == "Deny" => Effect::Deny,
        Some(Value::String(other)) => {
            return Err(bad(
                index,
                format!(
                    "Effect must be \"Allow\" or \"Deny\", found {}",
                    crate::json::excerpt(other)
                ),
            ))
        }
        Some(other) => {
            return Err(bad(
                index,
                format!(
                    "Effect must be \"Allow\" or \"Deny\", found {}",
                    json_type(other)
                ),
            ))
        }
        None => return Err(bad(index, "Effect is missing")),
    };
    let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), None) => Principals::Listed(parse_principals(index, "Principal", p)?),
        (None, Some(p)) => Principals::AllExcept(parse_principals(index, "NotPrincipal", p)?),
        (Some(_), Some(_)) => return Err(bad(index, "has both Principal and NotPrincipal")),
        (None, None) => {
            return Err(bad(
                index,
                "has no Principal: a resource policy statement must name who it applies to",
            ))
        }
    };
    let actions = match (s.get("Action"), s.get("NotAction")) {
        (Some(a), None) => Actions::Listed(string_list(index, "Action", a)?),
        (None, Some(a)) => Actions::AllExcept(string_list(index, "NotAction", a)?),
        (Some(_), Some(_)) => return Err(bad(index, "has both Action and NotAction")),
        (None, None) => return Err(bad(index, "has no Action")),
    };
    let (resources, not_resource) = match (s.get("Resource"), s.get("NotResource")) {
        (Some(r), None) => (string_list(index, "Resource", r)?, false),
        (None, Some(r)) => (string_list(index, "NotResource", r)?, true),
        (None, None) => (Vec::new(), false),
        (Some(_), Some(_)) => return Err(bad(index, "has both Resource and NotResource")),
    };
    let mut conditions = Vec::new();
    match s.get("Condition") {
        None | Some(Value::Null) => {}
        Some(Value::Object(ops)) => {
            for (operator, keys) in ops {
                let Value::Object(keys) = keys else {
                    return Err(bad(
                        index,
                        format!(
                            "Condition.{} must be an object of keys",
                            crate::json::excerpt(operator)
                        ),
                    ));
                };
                for (key, values) in keys {
                    conditions.push(Condition {
                        operator: operator.clone(),
                        key: key.clone(),
                        values: scalar_list(index, key, values)?,
                    });
                }
            }
        }
        Some(other) => {
            return Err(bad(
                index,
                format!("Condition must be an object, found {}", json_type(other)),
            ))
        }
    }
    Ok(Statement {
        index,
        sid,
        effect,
        principals,
        actions: Arc::new(actions),
        resources,
        not_resource,
        conditions,
    })
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
