//! The statement a permission call adds, built from the call's parameters as the service
//! builds it (SQS/SNS `AddPermission`, Lambda `AddPermission`, EventBridge
//! `PutPermission`). These calls carry the grant, not the whole policy: deciding the
//! statement alone says whether the grant is approved; the guard decides the live policy.
//! A parameter that is missing or of another type makes the call unreadable, never a
//! narrower grant than the one made.

use crate::json;
use crate::kinds::GrantShape;
use crate::principal::is_account_id;
use crate::resource::Resource;
use serde_json::{json, Map, Value};

/// The statement `shape`'s call in `record` added to `resource`'s policy.
pub(super) fn statement(
    record: &Value,
    shape: GrantShape,
    resource: &Resource,
) -> Result<Value, String> {
    let params = record
        .get("requestParameters")
        .filter(|p| p.is_object())
        .ok_or("the call carries no requestParameters")?;
    match shape {
        GrantShape::SqsAddPermission => listed(params, resource, "aWSAccountIds", "actions", "SQS"),
        GrantShape::SnsAddPermission => {
            listed(params, resource, "aWSAccountId", "actionName", "SNS")
        }
        GrantShape::LambdaAddPermission => lambda(record, params, resource),
        GrantShape::EventsPutPermission => events(params, resource),
    }
}

/// A list of strings, each non-empty; at least one.
fn strings(params: &Value, field: &str) -> Result<Vec<String>, String> {
    let bad = || format!("requestParameters.{field} is not a list of names");
    let items = match params.get(field) {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::String(s)) if !s.is_empty() => return Ok(vec![s.clone()]),
        None | Some(Value::Null) => {
            return Err(format!("the call carries no requestParameters.{field}"))
        }
        _ => return Err(bad()),
    };
    items
        .iter()
        .map(|v| match v {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            _ => Err(bad()),
        })
        .collect()
}

fn text<'a>(params: &'a Value, field: &str) -> Result<Option<&'a str>, String> {
    match params.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(format!(
            "requestParameters.{field} is not a non-empty string"
        )),
    }
}

/// An account id as the service writes it in a principal; anything else as given (the
/// engine then reads `*` as public and an unknown form as unresolvable).
fn account_principal(resource: &Resource, id: &str) -> String {
    if is_account_id(id) {
        format!("arn:{}:iam::{id}:root", resource.partition())
    } else {
        id.to_string()
    }
}

/// SQS/SNS `AddPermission`: accounts × actions, as `SERVICE:Action`.
fn listed(
    params: &Value,
    resource: &Resource,
    accounts: &str,
    actions: &str,
    service: &str,
) -> Result<Value, String> {
    let principals: Vec<String> = strings(params, accounts)?
        .iter()
        .map(|a| account_principal(resource, a))
        .collect();
    let actions: Vec<String> = strings(params, actions)?
        .iter()
        .map(|a| format!("{service}:{a}"))
        .collect();
    let mut st = json!({
        "Effect": "Allow",
        "Principal": {"AWS": principals},
        "Action": actions,
        "Resource": resource.arn,
    });
    if let Some(label) = text(params, "label")? {
        st["Sid"] = json!(label);
    }
    Ok(st)
}

/// The one of two fields a grant names a principal by (KMS takes either, not both): both
/// given, which one KMS used cannot be told.
fn one_of<'a>(params: &'a Value, a: &str, b: &str) -> Result<Option<&'a str>, String> {
    match (text(params, a)?, text(params, b)?) {
        (Some(_), Some(_)) => Err(format!(
            "the call names both {a} and {b}: which one KMS used cannot be told"
        )),
        (one, None) | (None, one) => Ok(one),
    }
}

/// KMS `CreateGrant`: the grantee's statement (its operations, the constraints as
/// encryption-context conditions, which narrow what, not who) and the retiring
/// principal's (`kms:RetireGrant`), with the grant's id from the response.
pub(super) fn kms_grant(
    record: &Value,
    resource: &Resource,
) -> Result<(Vec<Value>, Option<String>), String> {
    let params = record
        .get("requestParameters")
        .filter(|p| p.is_object())
        .ok_or("the call carries no requestParameters")?;
    let grantee = one_of(params, "granteePrincipal", "granteeServicePrincipal")?
        .ok_or("the call carries no requestParameters.granteePrincipal")?;
    // AWS infrastructure acting in an account (EBS: `ACCOUNT:aws:ec2-infrastructure:…`)
    // is that account.
    let infrastructure = grantee
        .split_once(":aws:")
        .map(|(account, _)| account)
        .filter(|a| is_account_id(a));
    let grantee = match infrastructure {
        Some(account) => account,
        None => grantee,
    };
    let actions: Vec<String> = strings(params, "operations")?
        .iter()
        .map(|o| format!("kms:{o}"))
        .collect();
    let mut st = json!({
        "Sid": "Grantee",
        "Effect": "Allow",
        "Principal": lambda_principal(resource, grantee),
        "Action": actions,
        "Resource": resource.arn,
    });
    st["Condition"] = grant_constraints(params.get("constraints"))?;
    if st["Condition"].is_null() {
        if let Some(o) = st.as_object_mut() {
            o.remove("Condition");
        }
    }
    let mut statements = vec![st];
    let retiring = one_of(params, "retiringPrincipal", "retiringServicePrincipal")?;
    if let Some(retiring) = retiring {
        statements.push(json!({
            "Sid": "RetiringPrincipal",
            "Effect": "Allow",
            "Principal": lambda_principal(resource, retiring),
            "Action": "kms:RetireGrant",
            "Resource": resource.arn,
        }));
    }
    let grant_id = match record.pointer("/responseElements/grantId") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        _ => None,
    };
    Ok((statements, grant_id))
}

/// A grant's `constraints` as conditions: the encryption context (what may be done, not
/// who: recorded) and `sourceArn` (the resource a service grantee acts for: it narrows
/// who, as `aws:SourceArn` does). A constraint crossguard does not know is unreadable.
fn grant_constraints(constraints: Option<&Value>) -> Result<Value, String> {
    let c = match constraints {
        None | Some(Value::Null) => return Ok(Value::Null),
        Some(Value::Object(c)) => c,
        Some(_) => return Err("requestParameters.constraints is not a map".into()),
    };
    let mut equals = Map::new();
    let mut cond = Map::new();
    for (field, v) in c {
        match (field.as_str(), v) {
            (_, Value::Null) => {}
            ("encryptionContextEquals" | "encryptionContextSubset", Value::Object(ctx)) => {
                for (k, v) in ctx {
                    equals.insert(format!("kms:EncryptionContext:{k}"), v.clone());
                }
            }
            ("sourceArn", Value::String(arn)) if !arn.is_empty() => {
                cond.insert("ArnEquals".into(), json!({"aws:SourceArn": arn}));
            }
            _ => return Err(format!("constraints.{field} is not understood")),
        }
    }
    if !equals.is_empty() {
        cond.insert("StringEquals".into(), Value::Object(equals));
    }
    Ok(if cond.is_empty() {
        Value::Null
    } else {
        Value::Object(cond)
    })
}

/// Lambda's principal parameter: `*`, an account, an ARN, or a service.
fn lambda_principal(resource: &Resource, p: &str) -> Value {
    if p == "*" {
        json!("*")
    } else if is_account_id(p) || p.starts_with("arn:") {
        json!({"AWS": account_principal(resource, p)})
    } else if p.contains('.') {
        json!({"Service": p})
    } else {
        json!({"AWS": p})
    }
}

/// Lambda `AddPermission`: the statement Lambda returned, else the one its parameters
/// make.
fn lambda(record: &Value, params: &Value, resource: &Resource) -> Result<Value, String> {
    if let Some(Value::String(s)) = record.pointer("/responseElements/statement") {
        let read = json::from_str(s)
            .map_err(|e| format!("responseElements.statement is unreadable: {e}"))?;
        if let Some(p) = read.duplicates.first() {
            return Err(format!(
                "responseElements.statement: {}",
                json::duplicate_message(p)
            ));
        }
        return match read.value {
            Value::Object(_) => Ok(read.value),
            _ => Err("responseElements.statement is not a statement".into()),
        };
    }
    let principal =
        text(params, "principal")?.ok_or("the call carries no requestParameters.principal")?;
    let action = text(params, "action")?.ok_or("the call carries no requestParameters.action")?;
    let mut cond: Map<String, Value> = Map::new();
    let mut equals = Map::new();
    if let Some(a) = text(params, "sourceAccount")? {
        equals.insert("AWS:SourceAccount".into(), json!(a));
    }
    if let Some(o) = text(params, "principalOrgID")? {
        equals.insert("aws:PrincipalOrgID".into(), json!(o));
    }
    if let Some(t) = text(params, "functionUrlAuthType")? {
        equals.insert("lambda:FunctionUrlAuthType".into(), json!(t));
    }
    if let Some(t) = text(params, "eventSourceToken")? {
        equals.insert("lambda:EventSourceToken".into(), json!(t));
    }
    if !equals.is_empty() {
        cond.insert("StringEquals".into(), Value::Object(equals));
    }
    if let Some(arn) = text(params, "sourceArn")? {
        cond.insert("ArnLike".into(), json!({"AWS:SourceArn": arn}));
    }
    let mut st = json!({
        "Effect": "Allow",
        "Principal": lambda_principal(resource, principal),
        "Action": action,
        "Resource": resource.arn,
    });
    if let Some(sid) = text(params, "statementId")? {
        st["Sid"] = json!(sid);
    }
    if !cond.is_empty() {
        st["Condition"] = Value::Object(cond);
    }
    Ok(st)
}

/// EventBridge `PutPermission` without a whole `policy` (that one is read as the policy,
/// [`events_policy`]): `principal` (`*` or an account), `action`, `statementId` and an
/// organization `condition`.
fn events(params: &Value, resource: &Resource) -> Result<Value, String> {
    if params.get("policy").is_some_and(|p| !p.is_null()) {
        return Err("PutPermission set a whole policy: see events_policy".into());
    }
    let principal =
        text(params, "principal")?.ok_or("the call carries no requestParameters.principal")?;
    // Not a default guessed: events:PutEvents is the only action PutPermission grants.
    let action = text(params, "action")?.unwrap_or("events:PutEvents");
    let mut st = json!({
        "Effect": "Allow",
        "Principal": if principal == "*" { json!("*") } else { json!({"AWS": account_principal(resource, principal)}) },
        "Action": action,
        "Resource": resource.arn,
    });
    if let Some(sid) = text(params, "statementId")? {
        st["Sid"] = json!(sid);
    }
    match params.get("condition") {
        None | Some(Value::Null) => {}
        Some(Value::Object(c)) => {
            let field = |k: &str| match c.get(k) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(format!(
                    "requestParameters.condition.{k} is not a non-empty string"
                )),
            };
            let (op, key, value) = (field("type")?, field("key")?, field("value")?);
            st["Condition"] = json!({ op: { key: value } });
        }
        Some(_) => return Err("requestParameters.condition is not an object".into()),
    }
    Ok(st)
}

/// EventBridge `PutPermission` with a whole `policy`: that policy.
pub(super) fn events_policy(record: &Value) -> Option<&Value> {
    record
        .pointer("/requestParameters/policy")
        .filter(|p| !p.is_null())
}
