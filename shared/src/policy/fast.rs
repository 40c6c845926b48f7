//! The fast path for policy text: statements deserialized straight from the JSON, with no
//! `serde_json::Value` tree in between (each string is allocated once, where it ends up).
//! It accepts only documents the `Value` path reads the same way; anything unusual (a
//! duplicate key at any level, a float in a condition, a field of the wrong type, a rule
//! broken) returns `None`, and the caller falls back to the `Value` path, which also
//! words the error. Fields it does not use are still read in full ([`Skip`]): serde's
//! `IgnoredAny` would pass a number out of range or a lone surrogate that the `Value`
//! path refuses, and the two must accept exactly the same documents. A property test
//! checks that both paths agree.

use super::model::{
    element_in_other_case, Actions, Condition, Effect, PrincipalEntry, Principals, Statement,
    DOCUMENT_ELEMENTS, STATEMENT_ELEMENTS,
};
use crate::principal::PrincipalType;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;
use std::hash::Hash;
use std::sync::Arc;

/// The statements of a policy document given as JSON object text, or `None`.
pub fn statements(text: &str) -> Option<Vec<Statement>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let doc = de.deserialize_map(DocVisitor).ok()?;
    de.end().ok()?;
    doc
}

/// One statement given as JSON object text (`index`: its place in its document), or
/// `None` where the fast path declines it.
pub(crate) fn statement_text(index: usize, text: &str) -> Option<Statement> {
    let mut de = serde_json::Deserializer::from_str(text);
    let s = StatementSeed(index).deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(s)
}

fn refuse<E: de::Error>() -> E {
    E::custom("left to the Value path")
}

struct DocVisitor;

impl<'de> Visitor<'de> for DocVisitor {
    type Value = Option<Vec<Statement>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a policy document")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut statements = None;
        let mut others = Seen::default();
        while let Some(key) = map.next_key::<&'de str>()? {
            if key == "Statement" {
                once(&mut statements, map.next_value_seed(StatementsSeed)?)?;
            } else {
                if element_in_other_case(key, DOCUMENT_ELEMENTS).is_some() {
                    return Err(refuse());
                }
                others.first(key)?;
                map.next_value::<Skip>()?;
            }
        }
        Ok(statements)
    }
}

struct StatementsSeed;

impl<'de> DeserializeSeed<'de> for StatementsSeed {
    type Value = Vec<Statement>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(StatementsVisitor)
    }
}

struct StatementsVisitor;

impl<'de> Visitor<'de> for StatementsVisitor {
    type Value = Vec<Statement>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a statement or a list of statements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(4));
        while let Some(s) = seq.next_element_seed(StatementSeed(out.len()))? {
            out.push(s);
        }
        Ok(out)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(vec![statement(0, map)?])
    }
}

struct StatementSeed(usize);

impl<'de> DeserializeSeed<'de> for StatementSeed {
    type Value = Statement;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        struct V(usize);
        impl<'de> Visitor<'de> for V {
            type Value = Statement;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a statement")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Statement, A::Error> {
                statement(self.0, map)
            }
        }
        d.deserialize_map(V(self.0))
    }
}

/// Set a field once; a second occurrence (a duplicate key) is left to the Value path.
fn once<T, E: de::Error>(slot: &mut Option<T>, v: T) -> Result<(), E> {
    if slot.is_some() {
        return Err(refuse());
    }
    *slot = Some(v);
    Ok(())
}

fn statement<'de, A: MapAccess<'de>>(index: usize, mut map: A) -> Result<Statement, A::Error> {
    let (mut sid, mut effect, mut principal, mut not_principal) = (None, None, None, None);
    let (mut action, mut not_action, mut resource, mut not_resource, mut condition) =
        (None, None, None, None, None);
    let mut others = Seen::default();
    while let Some(key) = map.next_key::<&'de str>()? {
        match key {
            "Sid" => once(&mut sid, map.next_value::<Option<String>>()?)?,
            "Effect" => once(&mut effect, map.next_value::<String>()?)?,
            "Principal" => once(&mut principal, map.next_value::<PrincipalList>()?.0)?,
            "NotPrincipal" => once(&mut not_principal, map.next_value::<PrincipalList>()?.0)?,
            "Action" => once(&mut action, map.next_value::<StrList>()?.0)?,
            "NotAction" => once(&mut not_action, map.next_value::<StrList>()?.0)?,
            "Resource" => once(&mut resource, map.next_value::<StrList>()?.0)?,
            "NotResource" => once(&mut not_resource, map.next_value::<StrList>()?.0)?,
            "Condition" => once(&mut condition, map.next_value::<Option<Conditions>>()?)?,
            _ => {
                if element_in_other_case(key, STATEMENT_ELEMENTS).is_some() {
                    return Err(refuse());
                }
                others.first(key)?;
                map.next_value::<Skip>()?;
            }
        }
    }
    let effect = match effect.as_deref() {
        Some("Allow") => Effect::Allow,
        Some("Deny") => Effect::Deny,
        _ => return Err(refuse()),
    };
    let principals = match (principal, not_principal) {
        (Some(p), None) => Principals::Listed(p),
        (None, Some(p)) => Principals::AllExcept(p),
        _ => return Err(refuse()),
    };
    let actions = match (action, not_action) {
        (Some(a), None) => Actions::Listed(a),
        (None, Some(a)) => Actions::AllExcept(a),
        _ => return Err(refuse()),
    };
    let (resources, not_resource) = match (resource, not_resource) {
        (Some(r), None) => (r, false),
        (None, Some(r)) => (r, true),
        (None, None) => (Vec::new(), false),
        _ => return Err(refuse()),
    };
    Ok(Statement {
        index,
        sid: sid.flatten(),
        effect,
        principals,
        actions: Arc::new(actions),
        resources,
        not_resource,
        conditions: condition.flatten().map(|c| c.0).unwrap_or_default(),
    })
}

/// Keys seen in one object: a repeat is left to the Value path. A list while small, a
/// set past that, so an object of many keys costs no quadratic time.
struct Seen<T>(Vec<T>, HashSet<T>);

impl<T> Default for Seen<T> {
    fn default() -> Self {
        Seen(Vec::new(), HashSet::new())
    }
}

impl<T: Eq + Hash> Seen<T> {
    fn first<E: de::Error>(&mut self, key: T) -> Result<(), E> {
        // Once the set holds the keys, every later key is checked there: the list is
        // empty from then on, and checking it alone missed every repeat after 16 keys.
        let fresh = if self.1.is_empty() && self.0.len() < 16 {
            !self.0.contains(&key) && {
                self.0.push(key);
                true
            }
        } else {
            if self.1.is_empty() {
                self.1.extend(self.0.drain(..));
            }
            self.1.insert(key)
        };
        if fresh {
            Ok(())
        } else {
            Err(refuse())
        }
    }
}

/// A value the fast path does not use, read in full by the same rules as the Value path
/// (numbers in range, strings decoded, no duplicate key in any object), then dropped.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Skip)
    }
}

impl<'de> Visitor<'de> for Skip {
    type Value = Skip;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Skip, E> {
        if n.is_finite() {
            Ok(Skip)
        } else {
            Err(refuse())
        }
    }
    fn visit_str<E>(self, _: &str) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_unit<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_none<E>(self) -> Result<Skip, E> {
        Ok(Skip)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
        while seq.next_element::<Skip>()?.is_some() {}
        Ok(Skip)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
        // Keys are owned here: one with an escape cannot be borrowed from the text.
        let mut seen = Seen::default();
        while let Some(key) = map.next_key::<String>()? {
            seen.first(key)?;
            map.next_value::<Skip>()?;
        }
        Ok(Skip)
    }
}

/// A string or a list of strings.
struct StrList(Vec<String>);

impl<'de> Deserialize<'de> for StrList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string or a list of strings")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<StrList, E> {
                Ok(StrList(vec![s.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrList, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(s) = seq.next_element::<String>()? {
                    v.push(s);
                }
                Ok(StrList(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// `"*"` or `{"AWS": …, "Service": …}`.
struct PrincipalList(Vec<PrincipalEntry>);

impl<'de> Deserialize<'de> for PrincipalList {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PrincipalList;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"*\" or a principal map")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PrincipalList, E> {
                if s != "*" {
                    return Err(refuse());
                }
                Ok(PrincipalList(vec![PrincipalEntry {
                    kind: PrincipalType::Star,
                    value: "*".into(),
                }]))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PrincipalList, A::Error> {
                let mut out = Vec::new();
                let mut seen = Seen::default();
                while let Some(key) = map.next_key::<String>()? {
                    let kind = PrincipalType::from_key(&key);
                    seen.first(key)?;
                    for value in map.next_value::<StrList>()?.0 {
                        out.push(PrincipalEntry { kind, value });
                    }
                }
                Ok(PrincipalList(out))
            }
        }
        d.deserialize_any(V)
    }
}

/// `{"Operator": {"key": value-or-values}}`, flattened in document order.
struct Conditions(Vec<Condition>);

impl<'de> Deserialize<'de> for Conditions {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Conditions;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a condition block")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Conditions, A::Error> {
                let mut out = Vec::new();
                let mut ops = Seen::default();
                while let Some(op) = map.next_key::<String>()? {
                    map.next_value_seed(OperatorSeed {
                        op: &op,
                        out: &mut out,
                    })?;
                    ops.first(op)?;
                }
                Ok(Conditions(out))
            }
        }
        d.deserialize_map(V)
    }
}

struct OperatorSeed<'o> {
    op: &'o str,
    out: &'o mut Vec<Condition>,
}

impl<'de> DeserializeSeed<'de> for OperatorSeed<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for OperatorSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("condition keys")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = Seen::default();
        while let Some(key) = map.next_key::<String>()? {
            keys.first(key.clone())?;
            let values = map.next_value::<Scalars>()?.0;
            // No values: left to the Value path, which refuses it with a reason.
            if values.is_empty() {
                return Err(refuse());
            }
            self.out.push(Condition {
                operator: self.op.to_string(),
                key,
                values,
            });
        }
        Ok(())
    }
}

/// A scalar or a list of scalars, as text. Floats are left to the Value path, whose
/// number formatting is the reference.
struct Scalars(Vec<String>);

struct Scalar(String);

macro_rules! scalar_visits {
    ($wrap:expr) => {
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok($wrap(s.to_string()))
        }
        fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
            Ok($wrap(b.to_string()))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok($wrap(n.to_string()))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok($wrap(n.to_string()))
        }
    };
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar")
            }
            scalar_visits!(Scalar);
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Scalars {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalars;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a scalar or a list of scalars")
            }
            scalar_visits!(|s| Scalars(vec![s]));
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalars, A::Error> {
                let mut v = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(Scalar(s)) = seq.next_element::<Scalar>()? {
                    v.push(s);
                }
                Ok(Scalars(v))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::Seen;

    /// A key repeated after any number of others is refused, wherever the list gives
    /// way to the set (a repeat after 17 keys once passed: the emptied list was checked
    /// alone).
    #[test]
    fn a_repeat_after_any_number_of_keys_is_refused() {
        for n in 0..60 {
            for again in 0..n {
                let mut seen = Seen::default();
                for k in 0..n {
                    seen.first::<serde_json::Error>(k).unwrap();
                }
                assert!(
                    seen.first::<serde_json::Error>(again).is_err(),
                    "{n} {again}"
                );
                // And a new key still passes after it.
                assert!(seen.first::<serde_json::Error>(n + 1).is_ok());
            }
        }
    }
}
