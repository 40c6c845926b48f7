//! The queue, topic, function, secret, repository, event bus and access point kinds on
//! moto server:
//! create one, give it a policy the way its service does (whole documents, or Lambda's
//! and EventBridge's statement-at-a-time permissions), read the policy back, build a
//! real-shaped event for a change to it, and run that kind's guard on the event.

use crate::{load_event, params, retarget, Estate, ACCOUNT, REGION};
use anyhow::{bail, Context, Result};
use crossguard_engine::ResourceKind;
use crossguard_guard::stores::{
    BusPolicies, FunctionPolicies, QueuePolicies, RepositoryPolicies, SecretPolicies, TopicPolicies,
};
use crossguard_guard::{Config, Handled, PolicyStore};
use serde_json::{json, Value};

/// The kinds this module builds and runs end to end, in the registry's order. Not access
/// points: moto 5.2.5 answers S3 Control's GetAccessPointPolicy and ListAccessPoints with
/// a root element the SDK refuses, so their guard cannot read them there
/// (tests/tests/doors.rs shows it failing closed).
pub const NEW_KINDS: [ResourceKind; 6] = [
    ResourceKind::Queue,
    ResourceKind::Topic,
    ResourceKind::Function,
    ResourceKind::Secret,
    ResourceKind::Repository,
    ResourceKind::Bus,
];

/// The action the example allowlist approves for the build account on `kind`
/// (`[[pairing]]` SEC-1250).
pub fn approved_action(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::Queue => "sqs:SendMessage",
        ResourceKind::Topic => "sns:Publish",
        ResourceKind::Function => "lambda:InvokeFunction",
        ResourceKind::Secret => "secretsmanager:GetSecretValue",
        ResourceKind::Repository => "ecr:BatchGetImage",
        _ => "events:PutEvents",
    }
}

/// One resource of a new kind in the estate.
#[derive(Debug, Clone)]
pub struct Door {
    pub kind: ResourceKind,
    pub name: String,
    pub arn: String,
}

/// The smallest valid zip archive (no entries): moto stores a function's code unread.
const EMPTY_ZIP: [u8; 22] = [
    0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

/// A statement's principal as the permission APIs take it: `*`, an account, a service.
fn permission_principal(st: &Value) -> Result<String> {
    let p = &st["Principal"];
    if p == "*" || p["AWS"] == "*" {
        return Ok("*".into());
    }
    if let Some(svc) = p["Service"].as_str() {
        return Ok(svc.into());
    }
    let arn = p["AWS"].as_str().context("principal")?;
    Ok(arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|a| a.strip_suffix(":root"))
        .unwrap_or(arn)
        .to_string())
}

fn statements(policy: &Value) -> Vec<Value> {
    policy["Statement"].as_array().cloned().unwrap_or_default()
}

impl Estate {
    /// Create a resource of `kind` named `name` (no policy yet, or the service's own
    /// default: a topic has one from the start).
    pub async fn create(&self, kind: ResourceKind, name: &str) -> Result<Door> {
        let sdk = &self.sdk;
        let arn = match kind {
            ResourceKind::Queue => {
                self.sqs.create_queue().queue_name(name).send().await?;
                format!("arn:aws:sqs:{REGION}:{ACCOUNT}:{name}")
            }
            ResourceKind::Topic => self
                .sns
                .create_topic()
                .name(name)
                .send()
                .await?
                .topic_arn
                .context("topic arn")?,
            ResourceKind::Function => {
                let role = format!("{name}-runs");
                self.iam
                    .create_role()
                    .role_name(&role)
                    .assume_role_policy_document(
                        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}).to_string(),
                    )
                    .send()
                    .await?;
                aws_sdk_lambda::Client::new(sdk)
                    .create_function()
                    .function_name(name)
                    .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
                    .handler("bootstrap")
                    .role(format!("arn:aws:iam::{ACCOUNT}:role/{role}"))
                    .code(
                        aws_sdk_lambda::types::FunctionCode::builder()
                            .zip_file(aws_sdk_lambda::primitives::Blob::new(EMPTY_ZIP.to_vec()))
                            .build(),
                    )
                    .send()
                    .await?
                    .function_arn
                    .context("function arn")?
            }
            ResourceKind::Secret => aws_sdk_secretsmanager::Client::new(sdk)
                .create_secret()
                .name(name)
                .secret_string("s3cr3t")
                .send()
                .await?
                .arn
                .context("secret arn")?,
            ResourceKind::Repository => {
                aws_sdk_ecr::Client::new(sdk)
                    .create_repository()
                    .repository_name(name)
                    .send()
                    .await?;
                format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{name}")
            }
            ResourceKind::Bus => aws_sdk_eventbridge::Client::new(sdk)
                .create_event_bus()
                .name(name)
                .send()
                .await?
                .event_bus_arn
                .context("bus arn")?,
            other => bail!("{other} is not one of the new kinds"),
        };
        Ok(Door {
            kind,
            name: name.to_string(),
            arn,
        })
    }

    /// Give `door` this policy: the whole document, or (functions, buses) one
    /// permission per statement, each under its `Sid`.
    pub async fn set_policy(&self, door: &Door, policy: &Value) -> Result<()> {
        let sdk = &self.sdk;
        let text = policy.to_string();
        match door.kind {
            ResourceKind::Queue => {
                let url = self.queue_url_of(&door.name).await?;
                self.sqs
                    .set_queue_attributes()
                    .queue_url(url)
                    .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, text)
                    .send()
                    .await?;
            }
            ResourceKind::Topic => {
                self.sns
                    .set_topic_attributes()
                    .topic_arn(&door.arn)
                    .attribute_name("Policy")
                    .attribute_value(text)
                    .send()
                    .await?;
            }
            ResourceKind::Secret => {
                aws_sdk_secretsmanager::Client::new(sdk)
                    .put_resource_policy()
                    .secret_id(&door.name)
                    .resource_policy(text)
                    .send()
                    .await?;
            }
            ResourceKind::Repository => {
                aws_sdk_ecr::Client::new(sdk)
                    .set_repository_policy()
                    .repository_name(&door.name)
                    .policy_text(text)
                    .send()
                    .await?;
            }
            ResourceKind::Function => {
                let lambda = aws_sdk_lambda::Client::new(sdk);
                for st in statements(policy) {
                    // An account as its root ARN: Lambda stores either as {"AWS": ARN},
                    // moto only the ARN.
                    let principal = match permission_principal(&st)? {
                        p if p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()) => {
                            format!("arn:aws:iam::{p}:root")
                        }
                        p => p,
                    };
                    lambda
                        .add_permission()
                        .function_name(&door.name)
                        .statement_id(st["Sid"].as_str().context("Sid")?)
                        .action(st["Action"].as_str().context("Action")?)
                        .principal(principal)
                        .send()
                        .await?;
                }
            }
            ResourceKind::Bus => {
                let eb = aws_sdk_eventbridge::Client::new(sdk);
                for st in statements(policy) {
                    eb.put_permission()
                        .event_bus_name(&door.name)
                        .statement_id(st["Sid"].as_str().context("Sid")?)
                        .action(st["Action"].as_str().context("Action")?)
                        .principal(permission_principal(&st)?)
                        .send()
                        .await?;
                }
            }
            other => bail!("{other} is not one of the new kinds"),
        }
        Ok(())
    }

    /// Create an access point on `bucket`; its ARN. moto answers CreateAccessPoint (and
    /// GetAccessPoint, ListAccessPoints) with a root element the SDK refuses
    /// (`CreateAccessPointResponse`): the answer is not read; that the access point exists
    /// is asked of its policy instead.
    pub async fn create_access_point(&self, name: &str, bucket: &str) -> Result<String> {
        let control = crossguard_guard::aws::s3control_client(&self.sdk);
        let _ = control
            .create_access_point()
            .account_id(ACCOUNT)
            .name(name)
            .bucket(bucket)
            .send()
            .await;
        // It exists when its policy can be asked for: none yet, or one.
        let asked = control
            .get_access_point_policy()
            .account_id(ACCOUNT)
            .name(name)
            .send()
            .await;
        if let Err(e) = asked {
            use aws_sdk_s3::error::ProvideErrorMetadata;
            if e.code() != Some("NoSuchAccessPointPolicy") {
                bail!("access point {name} on {bucket} was not created: {e:?}");
            }
        }
        Ok(format!("arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/{name}"))
    }

    async fn queue_url_of(&self, name: &str) -> Result<String> {
        self.sqs
            .get_queue_url()
            .queue_name(name)
            .send()
            .await?
            .queue_url
            .context("queue url")
    }

    /// The policy in force now, as the guard reads it (`None`: none).
    pub async fn policy_of(&self, door: &Door) -> Result<Option<Value>> {
        let r = crossguard_engine::Resource::new(door.kind, &door.arn, ACCOUNT, Some(REGION))?;
        let sdk = &self.sdk;
        let live = match door.kind {
            ResourceKind::Queue => QueuePolicies::new(sdk).read(&r).await,
            ResourceKind::Topic => TopicPolicies::new(sdk).read(&r).await,
            ResourceKind::Function => FunctionPolicies::new(sdk).read(&r).await,
            ResourceKind::Secret => SecretPolicies::new(sdk).read(&r).await,
            ResourceKind::Repository => RepositoryPolicies::new(sdk).read(&r).await,
            ResourceKind::Bus => BusPolicies::new(sdk).read(&r).await,
            other => bail!("{other} is not one of the new kinds"),
        }?;
        match live {
            crossguard_guard::Live::Policy(text) => Ok(Some(crate::parse(&text)?)),
            _ => Ok(None),
        }
    }

    /// Run `kind`'s guard, wired to this estate, on `event`.
    pub async fn handle(
        &self,
        kind: ResourceKind,
        config: &Config,
        event: &Value,
        request_id: &str,
    ) -> Result<Vec<Handled>> {
        let sdk = &self.sdk;
        Ok(match kind {
            ResourceKind::Queue => {
                self.run(config, QueuePolicies::new(sdk), event, request_id)
                    .await?
            }
            ResourceKind::Topic => {
                self.run(config, TopicPolicies::new(sdk), event, request_id)
                    .await?
            }
            ResourceKind::Function => {
                self.run(config, FunctionPolicies::new(sdk), event, request_id)
                    .await?
            }
            ResourceKind::Secret => {
                self.run(config, SecretPolicies::new(sdk), event, request_id)
                    .await?
            }
            ResourceKind::Repository => {
                self.run(config, RepositoryPolicies::new(sdk), event, request_id)
                    .await?
            }
            ResourceKind::Bus => {
                self.run(config, BusPolicies::new(sdk), event, request_id)
                    .await?
            }
            other => bail!("{other} is not one of the new kinds"),
        })
    }

    async fn run<P: PolicyStore>(
        &self,
        config: &Config,
        store: P,
        event: &Value,
        request_id: &str,
    ) -> Result<Vec<Handled>> {
        let guard = crossguard_guard::connect(&self.sdk, config, store).await?;
        Ok(guard.handle_value(event, request_id).await?)
    }
}

/// A real-shaped event of the call that gave `door` this policy (its last statement,
/// for the calls that add one permission), from the kind's fixture.
pub fn event_for(door: &Door, event_id: &str, policy: &Value) -> Result<Value> {
    let (fixture, actor) = match door.kind {
        ResourceKind::Queue => ("SetQueueAttributes__streamalert__1.json", "PlatformAdmin"),
        ResourceKind::Topic => (
            "SetTopicAttributes__sns-reconstructed__1.json",
            "PlatformAdmin",
        ),
        ResourceKind::Function => (
            "AddPermission20150331v2__lambda-reconstructed__1.json",
            "PlatformAdmin",
        ),
        ResourceKind::Secret => (
            "PutResourcePolicy__secrets-reconstructed__1.json",
            "PlatformAdmin",
        ),
        ResourceKind::Repository => ("SetRepositoryPolicy__panther__1.json", "PlatformAdmin"),
        ResourceKind::Bus => (
            "PutPermission__events-reconstructed__2.json",
            "PlatformAdmin",
        ),
        other => bail!("{other} is not one of the new kinds"),
    };
    let mut e = retarget(
        load_event(&format!("fixtures/cloudtrail/{fixture}"))?,
        event_id,
        actor,
    );
    let text = policy.to_string();
    let last = statements(policy).pop().unwrap_or(Value::Null);
    let p = params(&mut e);
    match door.kind {
        ResourceKind::Queue => {
            p["queueUrl"] = json!(format!(
                "https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{}",
                door.name
            ));
            p["attributes"] = json!({"Policy": text});
        }
        ResourceKind::Topic => {
            p["topicArn"] = json!(door.arn);
            p["attributeValue"] = json!(text);
        }
        ResourceKind::Secret => {
            p["secretId"] = json!(door.name);
            p["resourcePolicy"] = json!(text);
            e["detail"]["responseElements"] = json!({"aRN": door.arn, "name": door.name});
        }
        ResourceKind::Repository => {
            p["repositoryName"] = json!(door.name);
            p["policyText"] = json!(text);
        }
        ResourceKind::Function => {
            *p = json!({
                "functionName": door.name,
                "statementId": last["Sid"],
                "action": last["Action"],
                "principal": permission_principal(&last)?,
            });
        }
        ResourceKind::Bus => {
            *p = json!({
                "eventBusName": door.name,
                "statementId": last["Sid"],
                "action": last["Action"],
                "principal": permission_principal(&last)?,
            });
        }
        _ => {}
    }
    Ok(e)
}
