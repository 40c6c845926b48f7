//! A document cut into the JSON texts of its members and its statements, for a plan to
//! put back together: the statements a plan leaves as they were are copied as text, not
//! read into a JSON tree and written out again.

use super::{compact_len_of_text, string_end, PolicyDocument, PolicyError};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;
use std::borrow::Cow;

/// A document's pieces, each as compact JSON text (no insignificant white space).
#[derive(Debug)]
pub(crate) struct Pieces<'a> {
    /// The document's members in order: each name with its value's text. `Statement`'s
    /// value is left empty: the statements stand in for it.
    members: Vec<(String, Cow<'a, str>)>,
    /// Which member is `Statement`.
    statement: Option<usize>,
    /// The statements' texts, in order (a lone statement object is a list of one).
    pub(crate) statements: Vec<Cow<'a, str>>,
    /// `Statement` was a lone object, not a list.
    pub(crate) single: bool,
}

impl PolicyDocument {
    /// The document's pieces: cut from its text when it was read from text (the fast path
    /// accepted it, so it has no duplicate name at any level and every piece is exactly
    /// what was parsed), else written out from its JSON object.
    pub(crate) fn pieces(&self) -> Result<Pieces<'_>, PolicyError> {
        match (self.raw.get(), self.text.as_deref()) {
            (None, Some(text)) => Pieces::of_text(text),
            _ => Pieces::of_value(self.raw()?),
        }
    }
}

impl<'a> Pieces<'a> {
    fn of_text(text: &'a str) -> Result<Pieces<'a>, PolicyError> {
        let json = |e: serde_json::Error| PolicyError::Json(e.to_string());
        let mut de = serde_json::Deserializer::from_str(text);
        let raw = de.deserialize_map(MembersVisitor).map_err(json)?;
        de.end().map_err(json)?;
        let (mut members, mut statement, mut statements, mut single) =
            (Vec::with_capacity(raw.len()), None, Vec::new(), false);
        for (name, value) in raw {
            if name == "Statement" {
                let value = value.get();
                statement = Some(members.len());
                members.push((name, Cow::Borrowed("")));
                if value.starts_with('[') {
                    let list: Vec<&RawValue> = serde_json::from_str(value).map_err(json)?;
                    statements = list.into_iter().map(|s| compact(s.get())).collect();
                } else {
                    single = value.starts_with('{');
                    statements = vec![compact(value)];
                }
            } else {
                members.push((name, compact(value.get())));
            }
        }
        Ok(Pieces {
            members,
            statement,
            statements,
            single,
        })
    }

    fn of_value(raw: &serde_json::Map<String, Value>) -> Result<Pieces<'a>, PolicyError> {
        let text = |v: &Value| {
            serde_json::to_string(v)
                .map(Cow::Owned)
                .map_err(|e| PolicyError::Json(e.to_string()))
        };
        let (mut members, mut statement, mut statements, mut single) =
            (Vec::with_capacity(raw.len()), None, Vec::new(), false);
        for (name, value) in raw {
            if name == "Statement" {
                statement = Some(members.len());
                members.push((name.clone(), Cow::Borrowed("")));
                match value {
                    Value::Array(list) => {
                        statements = list.iter().map(text).collect::<Result<_, _>>()?;
                    }
                    other => {
                        single = other.is_object();
                        statements = vec![text(other)?];
                    }
                }
            } else {
                members.push((name.clone(), text(value)?));
            }
        }
        Ok(Pieces {
            members,
            statement,
            statements,
            single,
        })
    }

    /// The document with `statements` in place of its own (as one object when `single`
    /// and there is exactly one), every other member as it was, in its place; a document
    /// without `Statement` gets it last.
    pub(crate) fn with_statements(&self, statements: &[Cow<'_, str>], single: bool) -> String {
        let size = self.members.iter().map(|(n, v)| n.len() + v.len() + 4);
        let size = size.sum::<usize>() + statements.iter().map(|s| s.len() + 1).sum::<usize>();
        let mut out = String::with_capacity(size + 16);
        out.push('{');
        let put_statements = |out: &mut String| {
            out.push_str("\"Statement\":");
            match statements {
                [one] if single => out.push_str(one),
                _ => {
                    out.push('[');
                    for (i, s) in statements.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(s);
                    }
                    out.push(']');
                }
            }
        };
        for (i, (name, value)) in self.members.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            if Some(i) == self.statement {
                put_statements(&mut out);
                continue;
            }
            // A name always encodes; its escapes as serde_json writes them.
            push_json_string(&mut out, name);
            out.push(':');
            out.push_str(value);
        }
        if self.statement.is_none() {
            if !self.members.is_empty() {
                out.push(',');
            }
            put_statements(&mut out);
        }
        out.push('}');
        out
    }
}

fn push_json_string(out: &mut String, s: &str) {
    match serde_json::to_string(s) {
        Ok(quoted) => out.push_str(&quoted),
        // Serializing a `str` cannot fail; were it to, the text would not parse and the
        // plan that checks it is refused.
        Err(_) => out.push('?'),
    }
}

/// The document's members in order, each value's text as given.
struct MembersVisitor;

impl<'de> Visitor<'de> for MembersVisitor {
    type Value = Vec<(String, &'de RawValue)>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a policy document (a JSON object)")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut out = Vec::new();
        while let Some(name) = map.next_key::<String>()? {
            out.push((name, map.next_value::<&RawValue>()?));
        }
        Ok(out)
    }
}

/// `text` without insignificant white space (borrowed when it has none). Strings are
/// copied whole, escapes as written.
pub(crate) fn compact(text: &str) -> Cow<'_, str> {
    if compact_len_of_text(text) == text.len() {
        return Cow::Borrowed(text);
    }
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut from) = (0, 0);
    while let Some(&c) = b.get(i) {
        if c.is_ascii_whitespace() {
            out.push_str(&text[from..i]);
            i += 1;
            from = i;
            continue;
        }
        i += 1;
        if c == b'"' {
            // Past the closing quote: the string is copied with the run it ends.
            i = string_end(b, i);
        }
    }
    out.push_str(&text[from..]);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn compact_strips_white_space_outside_strings_only() {
        let text = "{ \"a b\" :\n\t[ 1 , \"x \\\" y \\\\\" , true ,\r\n\"é \\u00e9\" ] }";
        assert_eq!(
            compact(text),
            "{\"a b\":[1,\"x \\\" y \\\\\",true,\"é \\u00e9\"]}"
        );
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(serde_json::from_str::<Value>(&compact(text)).unwrap(), v);
        assert!(matches!(compact("{\"a b\":[1]}"), Cow::Borrowed(_)));
    }

    #[test]
    fn text_pieces_put_back_are_the_document() {
        let policy = json!({
            "Id": "first member",
            "Statement": [
                {"Sid": "Read it all", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:Get*"},
                {"Sid": "Two", "Effect": "Deny", "Principal": "*", "Action": ["s3:*"]}
            ],
            "Version": "2012-10-17"
        });
        for text in [
            policy.to_string(),
            serde_json::to_string_pretty(&policy).unwrap(),
        ] {
            let doc = PolicyDocument::parse(&text).unwrap();
            let p = doc.pieces().unwrap();
            assert!(!p.single);
            assert_eq!(p.statements.len(), 2);
            let back = p.with_statements(&p.statements, p.single);
            // Compact, members in their places.
            assert_eq!(back, policy.to_string());
            let only_second = p.with_statements(&p.statements[1..], true);
            assert_eq!(
                serde_json::from_str::<Value>(&only_second).unwrap()["Statement"],
                policy["Statement"][1]
            );
        }
    }

    #[test]
    fn a_lone_statement_and_a_missing_statement() {
        let text =
            r#"{"Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}}"#;
        let doc = PolicyDocument::parse(text).unwrap();
        let p = doc.pieces().unwrap();
        assert!(p.single);
        assert_eq!(
            p.with_statements(&p.statements, true),
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}}"#
        );
        // Two statements cannot be one object.
        let two = [p.statements[0].clone(), p.statements[0].clone()];
        assert!(p
            .with_statements(&two, true)
            .starts_with(r#"{"Statement":[{"#));
        // A document without `Statement` (none is planned; still put back whole).
        let bare = Pieces::of_text(r#"{"Version": "2012-10-17"}"#).unwrap();
        assert_eq!(
            bare.with_statements(&[], false),
            r#"{"Version":"2012-10-17","Statement":[]}"#
        );
    }

    #[test]
    fn value_pieces_are_its_json_written_out() {
        let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]});
        let doc = PolicyDocument::from_value(policy.clone()).unwrap();
        let p = doc.pieces().unwrap();
        assert_eq!(p.with_statements(&p.statements, false), policy.to_string());
    }
}
