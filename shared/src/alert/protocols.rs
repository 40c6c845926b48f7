//! One alert, written for each kind of SNS subscriber (`MessageStructure=json`): a
//! readable text for email, one JSON document for SQS, Lambda, HTTP and email-json
//! subscribers, an AWS Chatbot custom notification (Slack, Teams, Chime) for HTTPS — the
//! protocol Chatbot subscribes with — and the subject alone for SMS. Every subscriber
//! gets the next step: approve (`crossguard allowlist suggest`) or put back
//! (`crossguard restore`).

#[cfg(test)]
use super::DECISION_MARK;
use super::{severity, Alert, Outcome, MAX_BODY};
use crate::decision::{Decision, Verdict};
use crate::remediation::PlanKind;
use serde_json::json;

/// The schema of the JSON document SQS, Lambda, HTTP and email-json subscribers get.
pub const SCHEMA: &str = "crossguard.alert/1";

/// Chatbot shows at most this much of a description; the rest is in the evidence.
const CHAT_DESCRIPTION: usize = 3500;
/// Violations listed one by one in chat before "and N more".
const CHAT_GRANTS: usize = 10;

/// What to do next, in the order a person would: approve, or put back, or look.
pub fn next_steps(d: &Decision, outcome: &Outcome, evidence: Option<&str>) -> Vec<String> {
    let record = evidence.unwrap_or("the evidence record");
    let mut steps = Vec::new();
    match d.verdict {
        Verdict::Error => steps.push(format!(
            "Check the change by hand: crossguard could not read it ({record} has the reason)."
        )),
        _ if d.tamper.is_some() => steps.push(
            "Find out who changed the guard and why; restore its part from the template if it was not undone."
                .to_string(),
        ),
        _ => {
            steps.push(format!(
                "If the access is meant to be: approve it with `crossguard allowlist suggest {record}` and add the entries to the allowlist."
            ));
            let put_back = matches!(outcome, Outcome::Remediated)
                && matches!(
                    d.remediation.as_ref().map(|p| p.kind),
                    Some(PlanKind::PutPolicy | PlanKind::DeletePolicy | PlanKind::DenyAllTrust)
                );
            if put_back {
                steps.push(format!(
                    "Then put the removed grants back: `crossguard restore --allowlist ALLOWLIST {record}`."
                ));
            } else if !matches!(outcome, Outcome::Remediated) {
                steps.push(
                    "If it is not: remove the grants (the decision holds the planned fix), or set the resource's mode to remediate."
                        .to_string(),
                );
            }
        }
    }
    steps
}

fn clip(s: &str, max: usize) -> String {
    super::clip(s, max)
}

/// The `MessageStructure=json` message for `alert` (what [`super::render`] made of `d`),
/// or `None` when even its lean form would not fit in one SNS message: then the plain
/// body goes to every subscriber, as before. `evidence` is the record's `s3://` URI.
pub fn structured(
    alert: &Alert,
    d: &Decision,
    outcome: &Outcome,
    evidence: Option<&str>,
) -> Option<String> {
    let steps = next_steps(d, outcome, evidence);
    // Rendered again, not searched for in the body: policy text may hold the marker.
    let text = super::readable(d, outcome, &alert.subject);
    let full = text.trim_end();
    let attr = |k: &str| {
        alert
            .attributes
            .iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.clone())
    };
    let chat = chatbot(alert, d, outcome, &steps);
    let build = |text: &str, default: &str, decision: Option<&Decision>| -> Option<String> {
        let mut email = format!("{text}\n\nNext:\n");
        for s in &steps {
            email.push_str(&format!("- {s}\n"));
        }
        email.push_str(&format!(
            "\nThe whole decision (every grant, the plan, the removed statements) is in {}.\n",
            evidence.unwrap_or("the evidence record")
        ));
        let mut doc = json!({
            "schema": SCHEMA,
            "subject": alert.subject,
            "severity": severity(d),
            "account": attr("account"),
            "resource_kind": attr("resource_kind"),
            "resource": d.resource.as_ref().map(|r| r.arn.clone()),
            "verdict": d.verdict,
            "outcome": match outcome {
                Outcome::Alerted => "alerted",
                Outcome::Remediated => "remediated",
                Outcome::RemediationFailed(_) => "remediation_failed",
            },
            "summary": text,
            "next_steps": steps,
            "evidence": evidence,
            "decision": decision,
        });
        if decision.is_none() {
            doc["decision_omitted"] =
                json!("too large for one SNS message: the evidence record has it");
        }
        let doc = serde_json::to_string(&doc).ok()?;
        let m = json!({
            "default": default,
            "email": email,
            "email-json": doc,
            "sqs": doc,
            "lambda": doc,
            "http": doc,
            "https": chat,
            "sms": alert.subject,
        });
        serde_json::to_string(&m)
            .ok()
            .filter(|s| s.len() <= MAX_BODY)
    };
    // A large decision: first the documents point at the evidence record instead of
    // holding it; then the texts are cut too. Each subscriber still gets its own form.
    build(full, &alert.body, Some(d))
        .or_else(|| build(full, &alert.body, None))
        .or_else(|| {
            let short = cut(full, LEAN_TEXT);
            build(&short, &short, None)
        })
}

/// Bytes of text each form keeps when the whole alert would not fit: the head of the
/// readable text (the resource, the change, the first grants).
const LEAN_TEXT: usize = 16 * 1024;

/// At most `max` bytes of `s`, cut on a character boundary and marked.
fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}\n… (cut: the evidence record has every grant)",
        &s[..end]
    )
}

/// An AWS Chatbot custom notification: title, description (markdown), next steps.
fn chatbot(alert: &Alert, d: &Decision, outcome: &Outcome, steps: &[String]) -> String {
    let mut desc = String::new();
    if let Some(r) = &d.resource {
        desc.push_str(&format!("*Resource:* `{}` (owner {})\n", r.arn, r.account));
    }
    if let Some(e) = &d.event {
        let or = |o: &Option<String>| o.clone().unwrap_or_else(|| "?".into());
        desc.push_str(&format!(
            "*Change:* {} by `{}` at {}\n",
            or(&e.name),
            or(&e.actor),
            or(&e.time)
        ));
    }
    desc.push_str(&format!("*Verdict:* {} ({})\n", d.reason, severity(d)));
    let violations: Vec<_> = d.violations().collect();
    for f in violations.iter().take(CHAT_GRANTS) {
        desc.push_str(&format!(
            "• `{}` lets in {}\n",
            f.principal,
            crate::render::who(f)
        ));
    }
    if violations.len() > CHAT_GRANTS {
        desc.push_str(&format!("• and {} more\n", violations.len() - CHAT_GRANTS));
    }
    desc.push_str(&super::what_was_done(d, outcome));
    let attr = |k: &str| {
        alert
            .attributes
            .iter()
            .find(|(n, _)| *n == k)
            .map_or(String::new(), |(_, v)| v.clone())
    };
    let mut metadata = json!({
        "summary": alert.subject,
        "eventType": format!("crossguard.{}", match d.verdict {
            Verdict::Error => "error",
            _ if d.tamper.is_some() => "tamper",
            _ => "violation",
        }),
        "additionalContext": {
            "severity": attr("severity"),
            "account": attr("account"),
            "resource_kind": attr("resource_kind"),
        },
    });
    if let Some(r) = &d.resource {
        metadata["threadId"] = json!(r.arn);
        metadata["relatedResources"] = json!([r.arn]);
    }
    json!({
        "version": "1.0",
        "source": "custom",
        "content": {
            "textType": "client-markdown",
            "title": alert.subject,
            "description": clip(&desc, CHAT_DESCRIPTION),
            "nextSteps": steps,
        },
        "metadata": metadata,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::allowlist::Allowlist;
    use crate::decision::{decide, Options};
    use crate::event::EventSummary;
    use crate::policy::PolicyDocument;
    use crate::resource::{Resource, ResourceKind};
    use serde_json::Value;

    fn violation(grants: usize) -> Decision {
        let al = Allowlist::from_toml("version = 1\nmode = \"remediate\"\n", "a.toml").unwrap();
        let r = Resource::new(ResourceKind::Bucket, "data", "222222222222", None).unwrap();
        // One statement naming `grants` outside accounts: each removed grant carries the
        // statement, so the decision grows with the square of `grants`.
        let accounts: Vec<String> = (0..grants)
            .map(|i| format!("\"{}\"", 100_000_000_000_u64 + i as u64))
            .collect();
        let doc = PolicyDocument::parse(&format!(
            r#"{{"Statement":[{{"Sid":"S","Effect":"Allow","Principal":{{"AWS":[{}]}},"Action":"s3:GetObject","Resource":"*"}}]}}"#,
            accounts.join(",")
        ))
        .unwrap();
        let mut d = decide(&al, &r, Some(&doc), Options::default());
        d.event = Some(EventSummary {
            id: Some("e-1".into()),
            name: Some("PutBucketPolicy".into()),
            actor: Some("arn:aws:sts::222222222222:assumed-role/Admin/alice".into()),
            ..EventSummary::default()
        });
        d
    }

    fn parsed(m: &str) -> Value {
        serde_json::from_str(m).unwrap()
    }

    #[test]
    fn each_subscriber_gets_its_own_form() {
        let d = violation(1);
        let a = super::super::render(&d, &Outcome::Remediated).unwrap();
        let uri = "s3://ev/evidence/e-1.json";
        let m = parsed(&structured(&a, &d, &Outcome::Remediated, Some(uri)).unwrap());
        assert_eq!(m["default"], a.body.as_str());
        // Email: readable, the next steps, no JSON.
        let email = m["email"].as_str().unwrap();
        assert!(
            email.contains("Resource:") && email.contains("Next:"),
            "{email}"
        );
        assert!(
            email.contains(&format!("crossguard restore --allowlist ALLOWLIST {uri}")),
            "{email}"
        );
        assert!(
            email.contains(&format!("crossguard allowlist suggest {uri}")),
            "{email}"
        );
        assert!(
            !email.contains(DECISION_MARK) && !email.contains("\"verdict\""),
            "{email}"
        );
        // Machines: one JSON document, the whole decision in it.
        for p in ["sqs", "lambda", "http", "email-json"] {
            let doc = parsed(m[p].as_str().unwrap());
            assert_eq!(doc["schema"], SCHEMA);
            assert_eq!(doc["decision"]["verdict"], "violation");
            assert_eq!(doc["outcome"], "remediated");
            assert_eq!(doc["evidence"], uri);
            assert_eq!(doc["severity"], "high");
            assert_eq!(doc["resource"], "arn:aws:s3:::data");
        }
        // Chat: AWS Chatbot's custom notification.
        let chat = parsed(m["https"].as_str().unwrap());
        assert_eq!(chat["version"], "1.0");
        assert_eq!(chat["source"], "custom");
        assert_eq!(chat["content"]["textType"], "client-markdown");
        assert_eq!(chat["content"]["title"], a.subject.as_str());
        assert!(chat["content"]["description"]
            .as_str()
            .unwrap()
            .contains("`100000000000` lets in account 100000000000"));
        assert_eq!(chat["content"]["nextSteps"].as_array().unwrap().len(), 2);
        assert_eq!(chat["metadata"]["relatedResources"][0], "arn:aws:s3:::data");
        assert_eq!(m["sms"], a.subject.as_str());
        // Not fixed: no restore step, the fix is offered instead.
        let m = parsed(&structured(&a, &d, &Outcome::Alerted, None).unwrap());
        let email = m["email"].as_str().unwrap();
        assert!(
            !email.contains("crossguard restore") && email.contains("remove the grants"),
            "{email}"
        );
    }

    #[test]
    fn a_huge_decision_points_at_the_evidence_and_chat_stays_short() {
        let d = violation(400);
        let a = super::super::render(&d, &Outcome::Alerted).unwrap();
        let m = structured(&a, &d, &Outcome::Alerted, Some("s3://ev/k")).unwrap();
        assert!(m.len() <= MAX_BODY);
        let m = parsed(&m);
        let doc = parsed(m["sqs"].as_str().unwrap());
        assert!(
            doc["decision"].is_null() && doc["decision_omitted"].is_string(),
            "{doc}"
        );
        let chat = parsed(m["https"].as_str().unwrap());
        let desc = chat["content"]["description"].as_str().unwrap();
        assert!(
            desc.chars().count() <= CHAT_DESCRIPTION && desc.contains("and 390 more"),
            "{desc}"
        );
    }
}
