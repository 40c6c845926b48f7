//! The reference path for policy text: statements read from a `serde_json::Value`,
//! every rule checked and every fault worded. The fast path ([`super::fast`]) must agree
//! with it; it takes over whenever the fast path declines.

use super::model::{
    refuse_element_in_other_case, Actions, Condition, Effect, PolicyError, PrincipalEntry,
    Principals, Statement, STATEMENT_ELEMENTS,
};
use crate::principal::PrincipalType;
use serde_json::Value;
use std::sync::Arc;

pub(crate) fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
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

pub(super) fn parse_statement(index: usize, v: &Value) -> Result<Statement, PolicyError> {
    let Value::Object(s) = v else {
        return Err(bad(
            index,
            format!("a statement must be an object, found {}", json_type(v)),
        ));
    };
    refuse_element_in_other_case(s.keys(), STATEMENT_ELEMENTS, || {
        format!("statement {index} ")
    })?;
    let sid = match s.get("Sid") {
        None | Some(Value::Null) => None,
        Some(Value::String(x)) => Some(x.clone()),
        Some(other) => Some(other.to_string()),
    };
    let effect = parse_effect(index, s.get("Effect"))?;
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
    let conditions = parse_conditions(index, s.get("Condition"))?;
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

fn parse_effect(index: usize, v: Option<&Value>) -> Result<Effect, PolicyError> {
    match v {
        Some(Value::String(e)) if e == "Allow" => Ok(Effect::Allow),
        Some(Value::String(e)) if e == "Deny" => Ok(Effect::Deny),
        Some(Value::String(other)) => Err(bad(
            index,
            format!(
                "Effect must be \"Allow\" or \"Deny\", found {}",
                crate::json::excerpt(other)
            ),
        )),
        Some(other) => Err(bad(
            index,
            format!(
                "Effect must be \"Allow\" or \"Deny\", found {}",
                json_type(other)
            ),
        )),
        None => Err(bad(index, "Effect is missing")),
    }
}

/// `{"OP": {"KEY": VALUES}}`, one [`Condition`] per operator and key, in order.
fn parse_conditions(index: usize, v: Option<&Value>) -> Result<Vec<Condition>, PolicyError> {
    let mut conditions = Vec::new();
    match v {
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
                    let values = scalar_list(index, key, values)?;
                    // Matching nothing, or left out: which one AWS takes cannot be told.
                    if values.is_empty() {
                        return Err(bad(
                            index,
                            format!(
                                "condition {operator} {} has no values: what it allows cannot be told",
                                crate::json::excerpt(key)
                            ),
                        ));
                    }
                    conditions.push(Condition {
                        operator: operator.clone(),
                        key: key.clone(),
                        values,
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
    Ok(conditions)
}
