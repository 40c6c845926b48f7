//! Properties of the remediation plan over generated policies and allowlists:
//! applied, it leaves no unapproved grant; it keeps every approved grant and warning;
//! planning again on its result changes nothing. And the engine never panics.

use crossguard_engine::decision::evaluate;
use crossguard_engine::*;
use proptest::prelude::*;
use serde_json::{json, Value};

const OWNER: &str = "222222222222";

/// Cases per property: 2,000 in `make test`; `make properties` raises it (CROSSGUARD_CASES).
fn cases() -> u32 {
    std::env::var("CROSSGUARD_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}
const ACCOUNTS: [&str; 4] = [OWNER, "111111111111", "333333333333", "999999999999"];
const ORGS: [&str; 2] = ["o-a1b2c3d4e5", "o-zzzzzzzzzz"];
const ACTIONS: [&str; 7] = [
    "s3:GetObject",
    "s3:PutObject",
    "s3:Get*",
    "s3:*",
    "kms:Decrypt",
    "sts:AssumeRole",
    "*",
];

fn principal_value() -> impl Strategy<Value = (String, String)> {
    let acct = prop::sample::select(&ACCOUNTS[..]);
    prop_oneof![
        3 => acct.clone().prop_map(|a| ("AWS".to_string(), a.to_string())),
        3 => acct.clone().prop_map(|a| ("AWS".to_string(), format!("arn:aws:iam::{a}:root"))),
        2 => acct.prop_map(|a| ("AWS".to_string(), format!("arn:aws:iam::{a}:role/app"))),
        2 => Just(("AWS".to_string(), "*".to_string())),
        1 => Just(("AWS".to_string(), "AROAEXAMPLEEXAMPLE1234".to_string())),
        1 => Just(("Service".to_string(), "cloudtrail.amazonaws.com".to_string())),
        1 => Just(("Federated".to_string(), format!("arn:aws:iam::{OWNER}:oidc-provider/token.actions.githubusercontent.com"))),
    ]
}

fn subset<T: Clone + std::fmt::Debug + 'static>(
    pool: &'static [T],
) -> impl Strategy<Value = Vec<T>> {
    prop::sample::subsequence(pool, 1..=pool.len())
}

fn statement() -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.85),
        prop::bool::weighted(0.15),
        prop::collection::vec(principal_value(), 1..4),
        subset(&ACTIONS[..]),
        prop::option::weighted(0.3, subset(&ACCOUNTS[..])),
        prop::option::weighted(0.2, subset(&ORGS[..])),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.1),
        prop::bool::ANY,
    )
        .prop_map(|(allow, star, principals, actions, accts, orgs, ext_id, not_action, bare)| {
            let principal = if star {
                json!("*")
            } else {
                let mut map = serde_json::Map::new();
                for (k, v) in principals {
                    let e = map.entry(k).or_insert_with(|| json!([]));
                    e.as_array_mut().unwrap().push(json!(v));
                }
                // A type with one entry, as a string rather than a list of one.
                for e in map.values_mut().filter(|e| bare && e.as_array().is_some_and(|a| a.len() == 1)) {
                    *e = e[0].take();
                }
                Value::Object(map)
            };
            let mut cond = serde_json::Map::new();
            let mut eq = serde_json::Map::new();
            if let Some(a) = accts {
                eq.insert("aws:PrincipalAccount".into(), json!(a));
            }
            if let Some(o) = orgs {
                eq.insert("aws:PrincipalOrgID".into(), json!(o));
            }
            if ext_id {
                eq.insert("sts:ExternalId".into(), json!("x-1"));
            }
            if !eq.is_empty() {
                cond.insert("StringEquals".into(), Value::Object(eq));
            }
            let mut s = json!({"Effect": if allow { "Allow" } else { "Deny" }, "Principal": principal, "Resource": "*"});
            s[if not_action { "NotAction" } else { "Action" }] = json!(actions);
            if !cond.is_empty() {
                s["Condition"] = Value::Object(cond);
            }
            s
        })
}

fn allowlist_text() -> impl Strategy<Value = String> {
    let pairing = (
        prop::sample::select(&ACCOUNTS[1..]),
        prop::option::of(subset(&ACTIONS[..])),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(trusted, actions, ext, expired, scoped)| {
            let mut s = format!("[[pairing]]\nowner = \"{OWNER}\"\ntrusted = \"{trusted}\"\n");
            if let Some(a) = actions {
                s += &format!("actions = {}\n", serde_json::to_string(&a).unwrap());
            }
            if ext {
                s += "require_external_id = true\n";
            }
            if expired {
                s += "expires = 2020-01-01\n";
            }
            if scoped {
                s += "resources = [\"bucket/other\"]\n";
            }
            s
        });
    (prop::collection::vec(pairing, 0..4), prop::bool::ANY, prop::bool::weighted(0.2)).prop_map(|(ps, org, public)| {
        let mut s = String::from("version = 1\nmode = \"remediate\"\n");
        for p in ps {
            s += &p;
        }
        if org {
            s += "[[org]]\nid = \"o-a1b2c3d4e5\"\nowners = [\"*\"]\n";
        }
        if public {
            s += "[[public]]\nowner = \"*\"\nresources = [\"bucket/*\"]\nactions = [\"s3:GetObject\"]\n";
        }
        s
    })
}

fn opts() -> Options {
    Options {
        today: Date::new(2026, 11, 22).unwrap(),
        mode: None,
    }
}

/// A grant's identity across a plan: principal, account, org, actions.
type GrantKey = (String, Option<String>, Option<String>, String);

/// What must survive a plan: every finding that is not a violation.
fn kept_keys(findings: &[Finding]) -> Vec<GrantKey> {
    let mut v: Vec<_> = findings
        .iter()
        .filter(|f| !f.is_violation() && f.scope.is_outside())
        .map(|f| {
            (
                f.principal.clone(),
                f.account.clone(),
                f.org.clone(),
                format!("{:?}", f.actions),
            )
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A data-perimeter `Deny`: everyone outside some accounts or organizations is refused.
fn perimeter() -> impl Strategy<Value = Value> {
    (
        prop::bool::ANY,
        subset(&ACCOUNTS[..]),
        subset(&ORGS[..]),
        subset(&ACTIONS[..]),
    )
        .prop_map(|(by_org, accts, orgs, actions)| {
            let (key, values) = if by_org {
                ("aws:PrincipalOrgID", json!(orgs))
            } else {
                ("aws:PrincipalAccount", json!(accts))
            };
            json!({"Effect": "Deny", "Principal": "*", "Action": actions, "Resource": "*",
                   "Condition": {"StringNotEquals": {key: values}}})
        })
}

/// The check as it read the whole policy a plan leaves: applied, no unapproved grant is
/// left and every approved grant and warning outside the owner's account still stands.
fn whole_policy_check(al: &Allowlist, r: &Resource, before: &[Finding], plan: &Plan) -> bool {
    let Some(after) = plan.resulting_document() else {
        return true;
    };
    let Ok(after) = after else {
        return false;
    };
    let after = evaluate(al, r, &after, opts().today);
    !after.iter().any(Finding::is_violation)
        && before.iter().filter(|f| !f.is_violation()).all(|kept| {
            !kept.scope.is_outside()
                || after.iter().any(|f| {
                    !f.is_violation()
                        && f.principal == kept.principal
                        && f.grant.who == kept.grant.who
                        && f.actions == kept.actions
                })
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn remediation_plan_properties(
        statements in prop::collection::vec(statement(), 1..5),
        al in allowlist_text(),
        kind in prop::sample::select(&["bucket/data", "role/app", "key/k1"][..]),
    ) {
        let allowlist = Allowlist::from_toml(&al, "gen.toml").unwrap();
        let resource = Resource::from_spec(kind, OWNER, Some("us-east-1")).unwrap();
        let policy = json!({"Version": "2012-10-17", "Statement": statements});
        let doc = PolicyDocument::from_value(policy).unwrap();
        let d = decide(&allowlist, &resource, Some(&doc), opts());
        prop_assert!(d.verdict == Verdict::Compliant || d.verdict == Verdict::Violation);
        if d.verdict == Verdict::Compliant {
            prop_assert!(d.remediation.is_none());
            return Ok(());
        }
        let plan = d.remediation.as_ref().unwrap();
        // Without data perimeters, statement conditions always separate callers:
        // a safe plan must exist.
        prop_assert_ne!(plan.kind, PlanKind::Refused, "{:?}", plan.reason);
        prop_assert!(!plan.removed.is_empty());
        let after = plan.resulting_document().transpose().unwrap();
        let after = after.as_ref();
        let before_kept = kept_keys(&d.findings);
        match after {
            None => {
                prop_assert_eq!(plan.kind, PlanKind::DeletePolicy);
                prop_assert!(before_kept.is_empty(), "deleting would lose {:?}", before_kept);
            }
            Some(after_doc) => {
                let after_findings = evaluate(&allowlist, &resource, after_doc, opts().today);
                // 1. No unapproved grant is left.
                let left: Vec<_> = after_findings.iter().filter(|f| f.is_violation()).map(|f| f.reason.clone()).collect();
                prop_assert!(left.is_empty(), "still violating: {:?}", left);
                // 2. Every approved grant and warning is kept.
                let after_kept = kept_keys(&after_findings);
                for k in &before_kept {
                    prop_assert!(after_kept.contains(k), "lost {:?}", k);
                }
                // 3. Planning again changes nothing: the result is compliant.
                let again = decide(&allowlist, &resource, Some(after_doc), opts());
                prop_assert_eq!(again.verdict, Verdict::Compliant);
                prop_assert!(again.remediation.is_none());
                // A key policy keeps its owner's administration.
                if resource.kind == ResourceKind::Key {
                    prop_assert!(after_findings.iter().any(|f| f.account.as_deref() == Some(OWNER)));
                }
            }
        }
    }

    /// The engine's check of a plan reads again only what the plan wrote; the check it
    /// replaced read the whole result. Over policies with data-perimeter `Deny`s, read
    /// from text (the fast path) or from a value, a single statement or a list, for every
    /// way a kind treats a policy left empty, both checks agree on every plan.
    #[test]
    fn plan_check_agrees_with_the_whole_policy_check(
        statements in prop::collection::vec(statement(), 1..5),
        perimeters in prop::collection::vec(perimeter(), 0..3),
        al in allowlist_text(),
        kind in prop::sample::select(&["bucket/data", "role/app", "key/k1", "topic/t"][..]),
        as_text in prop::bool::ANY,
        single in prop::bool::weighted(0.2),
    ) {
        let allowlist = Allowlist::from_toml(&al, "gen.toml").unwrap();
        let resource = Resource::from_spec(kind, OWNER, Some("us-east-1")).unwrap();
        let mut all = statements;
        all.extend(perimeters);
        let stmts = if single && all.len() == 1 { all[0].clone() } else { json!(all) };
        let policy = json!({"Version": "2012-10-17", "Statement": stmts});
        let doc = if as_text {
            PolicyDocument::parse(&policy.to_string()).unwrap()
        } else {
            PolicyDocument::from_value(policy).unwrap()
        };
        let d = decide(&allowlist, &resource, Some(&doc), opts());
        if d.verdict != Verdict::Violation {
            return Ok(());
        }
        // The plan before any check, and the whole-policy check applied to it.
        let findings = evaluate(&allowlist, &resource, &doc, opts().today);
        let Ok(unchecked) = remediation::plan(&doc, &resource, &findings) else {
            prop_assert_eq!(d.remediation.as_ref().map(|p| p.kind), Some(PlanKind::Refused));
            return Ok(());
        };
        let whole_ok = whole_policy_check(&allowlist, &resource, &findings, &unchecked);
        let engine_ok = d.remediation.as_ref().is_some_and(|p| p.kind != PlanKind::Refused);
        prop_assert_eq!(engine_ok, whole_ok, "{:?}", d.remediation.as_ref().and_then(|p| p.reason.clone()));
    }

    /// A plan of a document read from text edits only the statements it cuts and writes
    /// the rest back as their text; a plan of the same document read as a value works on
    /// values throughout. Both write the same policy (here byte for byte: serde_json wrote
    /// the text, so its spelling is serde_json's) and the same record.
    #[test]
    fn plans_from_text_and_from_value_write_the_same_policy(
        statements in prop::collection::vec(statement(), 1..5),
        perimeters in prop::collection::vec(perimeter(), 0..3),
        al in allowlist_text(),
        kind in prop::sample::select(&["bucket/data", "role/app", "key/k1", "topic/t"][..]),
        single in prop::bool::weighted(0.2),
        pretty in prop::bool::ANY,
        // Statements no plan edits: with more of them than it cuts, a plan reads the
        // text in parts (else the document whole).
        fences in 0..8usize,
    ) {
        let allowlist = Allowlist::from_toml(&al, "gen.toml").unwrap();
        let resource = Resource::from_spec(kind, OWNER, Some("us-east-1")).unwrap();
        let mut all = statements;
        all.extend(perimeters);
        all.extend((0..fences).map(|i| json!({"Sid": format!("Tls{i}"), "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})));
        let stmts = if single && all.len() == 1 { all[0].clone() } else { json!(all) };
        let policy = json!({"Version": "2012-10-17", "Statement": stmts, "Id": "gen"});
        let text = if pretty { serde_json::to_string_pretty(&policy).unwrap() } else { policy.to_string() };
        let from_text = PolicyDocument::parse(&text).unwrap();
        prop_assert!(from_text.read_from_text());
        let from_value = PolicyDocument::from_value(policy).unwrap();
        let a = decide(&allowlist, &resource, Some(&from_text), opts());
        let b = decide(&allowlist, &resource, Some(&from_value), opts());
        prop_assert_eq!(a.remediation.as_ref().map(|p| p.policy.clone()), b.remediation.as_ref().map(|p| p.policy.clone()));
        prop_assert_eq!(serde_json::to_string(&a).unwrap(), serde_json::to_string(&b).unwrap());
        prop_assert_eq!(serde_json::to_string_pretty(&a).unwrap(), serde_json::to_string_pretty(&b).unwrap());
        // The policy written is the value it stands for.
        if let Some(p) = a.remediation.as_ref().and_then(|p| p.policy.as_ref()) {
            let v = p.to_value().unwrap();
            prop_assert_eq!(p.as_text(), v.to_string());
        }
    }

    #[test]
    fn fast_and_value_parsers_agree(
        statements in prop::collection::vec(statement(), 1..5),
        single in prop::bool::weighted(0.2),
        pretty in prop::bool::ANY,
    ) {
        let stmts = if single { statements[0].clone() } else { json!(statements) };
        let policy = json!({"Version": "2012-10-17", "Id": "gen", "Statement": stmts});
        let text = if pretty { serde_json::to_string_pretty(&policy).unwrap() } else { policy.to_string() };
        let fast = PolicyDocument::parse(&text).unwrap();
        prop_assert!(fast.read_from_text(), "the fast path declined a plain policy");
        let slow = PolicyDocument::from_value(policy.clone()).unwrap();
        prop_assert_eq!(&fast.statements, &slow.statements);
        prop_assert_eq!(fast.raw().unwrap(), slow.raw().unwrap());
        prop_assert_eq!(fast.compact_len(), slow.compact_len());
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,300}") {
        let _ = PolicyDocument::parse(&text);
        let _ = Allowlist::from_toml(&text, "x.toml");
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            let al = Allowlist::from_toml("version = 1", "x").unwrap();
            let _ = decide_event_text(&al, &v.to_string(), opts());
        }
    }

    #[test]
    fn arbitrary_json_policies_never_panic(v in arb_json(4)) {
        let al = Allowlist::from_toml("version = 1", "x").unwrap();
        let r = Resource::from_spec("bucket/b", OWNER, None).unwrap();
        let policy = json!({"Statement": [v]});
        // Both parsers accept the same documents and read them the same way.
        let slow = PolicyDocument::from_value(policy.clone());
        let fast = PolicyDocument::parse(&policy.to_string());
        prop_assert_eq!(slow.is_ok(), fast.is_ok());
        if let (Ok(slow), Ok(fast)) = (slow, fast) {
            prop_assert_eq!(&slow.statements, &fast.statements);
            let _ = decide(&al, &r, Some(&fast), opts());
        }
    }
}

/// Values the two parsers must treat alike, the hard ones included: numbers out of f64's
/// range, lone surrogates, escapes, nested duplicates.
const ODD_VALUES: [&str; 22] = [
    "1e400",
    "-1e400",
    "1e-400",
    "0.1",
    "-0",
    "12345678901234567890123",
    r#""\ud800""#,
    r#""\udc00x""#,
    r#""\ud83d\ude00""#,
    r#""a\u0000b""#,
    r#""\"""#,
    "[]",
    "{}",
    r#"{"a":1,"a":2}"#,
    r#"[{"x":[1e400]}]"#,
    "null",
    "true",
    r#""Allow""#,
    r#""Deny""#,
    r#""*""#,
    r#"{"AWS":"111111111111"}"#,
    r#"["s3:*"]"#,
];

const KEYS: [&str; 15] = [
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "Condition",
    "Sid",
    "Statement",
    "Id",
    "Version",
    "Foo",
    "AWS",
    "StringEquals",
    "aws:PrincipalAccount",
];

/// Policy text with one member `"KEY": VALUE` inserted at the top, into a statement, or
/// into a statement's principal or condition block: often a duplicate, often a value
/// one parser might skip without reading.
fn mutated_policy_text() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(statement(), 1..4),
        prop::sample::select(&KEYS[..]),
        prop::sample::select(&ODD_VALUES[..]),
        0..4usize,
        any::<prop::sample::Index>(),
    )
        .prop_map(|(statements, key, value, place, at)| {
            let member = format!("\"{key}\":{value},");
            let mut stmts: Vec<String> = statements.iter().map(Value::to_string).collect();
            let i = at.index(stmts.len());
            let inject = |text: &str, field: &str| match text.find(field) {
                Some(p) => match text[p..].find('{') {
                    Some(q) => format!("{}{member}{}", &text[..p + q + 1], &text[p + q + 1..]),
                    None => text.to_string(),
                },
                None => text.to_string(),
            };
            match place {
                1 => stmts[i] = format!("{{{member}{}", &stmts[i][1..]),
                2 => stmts[i] = inject(&stmts[i], "\"Principal\""),
                3 => stmts[i] = inject(&stmts[i], "\"Condition\""),
                _ => {}
            }
            let top = if place == 0 { member } else { String::new() };
            format!(
                "{{{top}\"Version\":\"2012-10-17\",\"Statement\":[{}]}}",
                stmts.join(",")
            )
        })
}

/// The reference reading: the whole text as a value, exactly (no duplicate key), then
/// the Value path.
fn reference(text: &str) -> Result<(Vec<policy::Statement>, Value), String> {
    let c = json::from_str(text).map_err(|e| e.to_string())?;
    if let Some(why) = c.duplicate_reason("") {
        return Err(why);
    }
    let doc = PolicyDocument::from_value(c.value.clone()).map_err(|e| e.to_string())?;
    Ok((doc.statements, c.value))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// The fast path and the Value path accept exactly the same documents and read them
    /// the same way; a document either refuses is an error, never a default.
    #[test]
    fn parsers_accept_exactly_the_same_text(text in mutated_policy_text()) {
        let want = reference(&text);
        let got = PolicyDocument::parse(&text);
        match (&want, &got) {
            (Ok((statements, value)), Ok(doc)) => {
                prop_assert_eq!(&doc.statements, statements);
                prop_assert_eq!(&doc.to_json().unwrap(), value);
            }
            (Err(_), Err(_)) => {}
            _ => prop_assert!(false, "reference {:?} but parse {:?} for {}", want.as_ref().map(|_| ()), got.as_ref().map(|_| ()), text),
        }
        // The exact reader refuses what serde_json refuses, and nothing else.
        prop_assert_eq!(json::from_str(&text).is_ok(), serde_json::from_str::<Value>(&text).is_ok());
        // Decided, it never panics; unreadable is an error decision.
        let al = Allowlist::from_toml("version = 1", "x").unwrap();
        let r = Resource::from_spec("bucket/b", OWNER, None).unwrap();
        let d = match got {
            Ok(doc) => decide(&al, &r, Some(&doc), opts()),
            Err(e) => Decision::error(Some(r), e.to_string()),
        };
        prop_assert_eq!(d.verdict == Verdict::Error, want.is_err());
    }
}

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop::sample::select(
            &[
                "*",
                "Allow",
                "Deny",
                "111111111111",
                "arn:aws:iam::111111111111:root",
                "s3:*",
                "o-a1b2c3d4e5",
                "AWS",
                "Service"
            ][..]
        )
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(depth, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(&KEYS[..]).prop_map(str::to_string),
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
