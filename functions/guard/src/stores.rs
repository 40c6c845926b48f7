//! The policy stores of the queue, topic, function, secret, repository and event bus
//! kinds: how the guard reads, writes and deletes each one's policy, and how `scan` lists
//! them (every page). One small adapter per kind; the engine's registry
//! (`crossguard_engine::kinds`) holds everything else about the kind.

use crate::aws::aws_error;
use crate::ports::{AwsError, Live, PolicyStore};
use crossguard_engine::{Resource, ResourceKind};
use serde_json::Value;

fn refused(operation: &'static str, message: &str) -> AwsError {
    AwsError {
        operation,
        code: None,
        message: message.to_string(),
    }
}

/// The `Sid`s of a policy's statements, in order (a statement without one is `None`).
fn sids(policy: &str) -> Result<Vec<Option<String>>, String> {
    let v: Value = serde_json::from_str(policy).map_err(|e| e.to_string())?;
    let statements = match v.get("Statement") {
        Some(Value::Array(items)) => items.clone(),
        Some(one @ Value::Object(_)) => vec![one.clone()],
        None => Vec::new(),
        Some(_) => return Err("Statement is neither a list nor an object".into()),
    };
    Ok(statements
        .iter()
        .map(|s| s.get("Sid").and_then(Value::as_str).map(str::to_string))
        .collect())
}

/// The statements a per-statement policy must lose to become `planned`: every `Sid` now
/// in force that the plan does not keep. A statement without a `Sid` cannot be removed
/// by these APIs: the engine never plans that, and this refuses it again.
fn sids_to_remove(live: &str, planned: Option<&str>) -> Result<Vec<String>, String> {
    let kept: Vec<Option<String>> = match planned {
        Some(p) => sids(p)?,
        None => Vec::new(),
    };
    let mut out = Vec::new();
    for sid in sids(live)? {
        match sid {
            Some(s) if !kept.contains(&Some(s.clone())) => out.push(s),
            Some(_) => {}
            None => return Err("a statement without a Sid cannot be removed by Sid".into()),
        }
    }
    Ok(out)
}

/// `NAME:QUALIFIER` → (`NAME`, `QUALIFIER`): an alias's or version's own policy.
fn function_and_qualifier(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((f, q)) => (f, Some(q)),
        None => (name, None),
    }
}

// --- SQS queues -------------------------------------------------------------------

/// SQS queue policies (the `Policy` attribute; `""` removes it).
#[derive(Clone)]
pub struct QueuePolicies(pub aws_sdk_sqs::Client);

impl QueuePolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_sqs::Client::new(sdk))
    }

    /// The queue's URL, or `None` when it no longer exists.
    async fn url(&self, r: &Resource) -> Result<Option<String>, AwsError> {
        match self
            .0
            .get_queue_url()
            .queue_name(&r.name)
            .queue_owner_aws_account_id(&r.account)
            .send()
            .await
        {
            Ok(out) => Ok(out.queue_url),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_sqs::operation::get_queue_url::GetQueueUrlError::is_queue_does_not_exist) =>
            {
                Ok(None)
            }
            Err(e) => Err(aws_error("GetQueueUrl", &e)),
        }
    }

    async fn set(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        let url = self
            .url(r)
            .await?
            .ok_or_else(|| refused("SetQueueAttributes", "the queue no longer exists"))?;
        self.0
            .set_queue_attributes()
            .queue_url(url)
            .attributes(aws_sdk_sqs::types::QueueAttributeName::Policy, policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("SetQueueAttributes", &e))
    }

    /// Every queue name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .list_queues()
                .set_max_results(page)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListQueues", &e))?;
            out.extend(
                resp.queue_urls()
                    .iter()
                    .filter_map(|u| u.rsplit('/').next().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for QueuePolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Queue
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        let Some(url) = self.url(r).await? else {
            return Ok(Live::Gone);
        };
        let out = self
            .0
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::Policy)
            .send()
            .await;
        match out {
            Ok(out) => Ok(out
                .attributes
                .and_then(|mut a| a.remove(&aws_sdk_sqs::types::QueueAttributeName::Policy))
                .filter(|p| !p.is_empty())
                .map_or(Live::NoPolicy, Live::Policy)),
            Err(e) if e.as_service_error().is_some_and(aws_sdk_sqs::operation::get_queue_attributes::GetQueueAttributesError::is_queue_does_not_exist) => Ok(Live::Gone),
            Err(e) => Err(aws_error("GetQueueAttributes", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.set(r, policy).await
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.set(r, "").await
    }
}

// --- SNS topics -------------------------------------------------------------------

/// SNS topic policies (a topic always has one: the engine never plans a delete).
#[derive(Clone)]
pub struct TopicPolicies(pub aws_sdk_sns::Client);

impl TopicPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_sns::Client::new(sdk))
    }

    /// Every topic ARN, page by page (SNS sets the page size).
    pub async fn list(&self) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .list_topics()
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListTopics", &e))?;
            out.extend(
                resp.topics()
                    .iter()
                    .filter_map(|t| t.topic_arn().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for TopicPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Topic
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.0.get_topic_attributes().topic_arn(&r.arn).send().await {
            Ok(out) => Ok(out
                .attributes
                .and_then(|mut a| a.remove("Policy"))
                .filter(|p| !p.is_empty())
                .map_or(Live::NoPolicy, Live::Policy)),
            Err(e)
                if e.as_service_error()
                    .is_some_and(aws_sdk_sns::operation::get_topic_attributes::GetTopicAttributesError::is_not_found_exception) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("GetTopicAttributes", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .set_topic_attributes()
            .topic_arn(&r.arn)
            .attribute_name("Policy")
            .attribute_value(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("SetTopicAttributes", &e))
    }

    async fn delete(&self, _: &Resource) -> Result<(), AwsError> {
        Err(refused(
            "SetTopicAttributes",
            "a topic always has a policy: the plan must put SNS's default back",
        ))
    }
}

// --- Lambda functions -------------------------------------------------------------

/// Lambda function policies, edited a statement at a time: a plan is carried out by
/// RemovePermission of each statement it drops (the engine plans nothing else).
#[derive(Clone)]
pub struct FunctionPolicies(pub aws_sdk_lambda::Client);

impl FunctionPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_lambda::Client::new(sdk))
    }

    async fn remove_all_but(&self, r: &Resource, planned: Option<&str>) -> Result<(), AwsError> {
        let live = match self.read(r).await? {
            Live::Policy(p) => p,
            Live::NoPolicy | Live::Gone => return Ok(()),
        };
        let drop = sids_to_remove(&live, planned).map_err(|m| refused("RemovePermission", &m))?;
        let (function, qualifier) = function_and_qualifier(&r.name);
        for sid in drop {
            self.0
                .remove_permission()
                .function_name(function)
                .set_qualifier(qualifier.map(str::to_string))
                .statement_id(&sid)
                .send()
                .await
                .map_err(|e| aws_error("RemovePermission", &e))?;
        }
        Ok(())
    }

    /// Every function name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut marker = None;
        loop {
            let resp = self
                .0
                .list_functions()
                .set_max_items(page)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| aws_error("ListFunctions", &e))?;
            out.extend(
                resp.functions()
                    .iter()
                    .filter_map(|f| f.function_name().map(str::to_string)),
            );
            match resp.next_marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for FunctionPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Function
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        let (function, qualifier) = function_and_qualifier(&r.name);
        match self
            .0
            .get_policy()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => Ok(out.policy.map_or(Live::NoPolicy, Live::Policy)),
            // Lambda answers the same for a function without a policy and for no
            // function: either way nothing is shared.
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_lambda::operation::get_policy::GetPolicyError::is_resource_not_found_exception,
                ) =>
            {
                Ok(Live::NoPolicy)
            }
            Err(e) => Err(aws_error("GetPolicy", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.remove_all_but(r, Some(policy)).await
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.remove_all_but(r, None).await
    }
}

// --- Secrets Manager secrets ------------------------------------------------------

/// How to name a secret to its API: the full ARN when the event or listing gave one
/// (exact), else the name (a partial ARN could match another secret).
fn secret_id(r: &Resource) -> &str {
    if r.arn.ends_with(&format!(":secret:{}", r.name)) {
        &r.name
    } else {
        &r.arn
    }
}

/// Secrets Manager resource policies.
#[derive(Clone)]
pub struct SecretPolicies(pub aws_sdk_secretsmanager::Client);

impl SecretPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_secretsmanager::Client::new(sdk))
    }

    /// Every secret's ARN (the full one, exact), page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .list_secrets()
                .set_max_results(page)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListSecrets", &e))?;
            out.extend(
                resp.secret_list()
                    .iter()
                    .filter_map(|s| s.arn().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for SecretPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Secret
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.0.get_resource_policy().secret_id(secret_id(r)).send().await {
            Ok(out) => Ok(out
                .resource_policy
                .filter(|p| !p.is_empty())
                .map_or(Live::NoPolicy, Live::Policy)),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_secretsmanager::operation::get_resource_policy::GetResourcePolicyError::is_resource_not_found_exception,
                ) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("GetResourcePolicy", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .put_resource_policy()
            .secret_id(secret_id(r))
            .resource_policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutResourcePolicy", &e))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.0
            .delete_resource_policy()
            .secret_id(secret_id(r))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteResourcePolicy", &e))
    }
}

// --- ECR repositories -------------------------------------------------------------

/// ECR repository policies.
#[derive(Clone)]
pub struct RepositoryPolicies(pub aws_sdk_ecr::Client);

impl RepositoryPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_ecr::Client::new(sdk))
    }

    /// Every repository name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .describe_repositories()
                .set_max_results(page)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("DescribeRepositories", &e))?;
            out.extend(
                resp.repositories()
                    .iter()
                    .filter_map(|r| r.repository_name().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for RepositoryPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Repository
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self
            .0
            .get_repository_policy()
            .registry_id(&r.account)
            .repository_name(&r.name)
            .send()
            .await
        {
            Ok(out) => Ok(out.policy_text.map_or(Live::NoPolicy, Live::Policy)),
            Err(e) => match e.as_service_error() {
                Some(s) if s.is_repository_policy_not_found_exception() => Ok(Live::NoPolicy),
                Some(s) if s.is_repository_not_found_exception() => Ok(Live::Gone),
                _ => Err(aws_error("GetRepositoryPolicy", &e)),
            },
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .set_repository_policy()
            .registry_id(&r.account)
            .repository_name(&r.name)
            .policy_text(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("SetRepositoryPolicy", &e))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.0
            .delete_repository_policy()
            .registry_id(&r.account)
            .repository_name(&r.name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteRepositoryPolicy", &e))
    }
}

// --- EventBridge buses ------------------------------------------------------------

/// EventBridge event bus policies, edited a statement at a time (RemovePermission by
/// statement id), like Lambda's.
#[derive(Clone)]
pub struct BusPolicies(pub aws_sdk_eventbridge::Client);

impl BusPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_config::SdkConfig) -> Self {
        Self(aws_sdk_eventbridge::Client::new(sdk))
    }

    /// Every event bus name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .list_event_buses()
                .set_limit(page)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListEventBuses", &e))?;
            out.extend(
                resp.event_buses()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for BusPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Bus
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        match self.0.describe_event_bus().name(&r.name).send().await {
            Ok(out) => Ok(out
                .policy
                .filter(|p| !p.is_empty())
                .map_or(Live::NoPolicy, Live::Policy)),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusError::is_resource_not_found_exception,
                ) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("DescribeEventBus", &e)),
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        let live = match self.read(r).await? {
            Live::Policy(p) => p,
            Live::NoPolicy | Live::Gone => return Ok(()),
        };
        let drop =
            sids_to_remove(&live, Some(policy)).map_err(|m| refused("RemovePermission", &m))?;
        for sid in drop {
            self.0
                .remove_permission()
                .event_bus_name(&r.name)
                .statement_id(&sid)
                .send()
                .await
                .map_err(|e| aws_error("RemovePermission", &e))?;
        }
        Ok(())
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.0
            .remove_permission()
            .event_bus_name(&r.name)
            .remove_all_permissions(true)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("RemovePermission", &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_to_remove_keeps_what_the_plan_keeps() {
        let live = r#"{"Statement":[{"Sid":"a"},{"Sid":"b"},{"Sid":"c"}]}"#;
        let planned = r#"{"Statement":[{"Sid":"a"},{"Sid":"c"}]}"#;
        assert_eq!(sids_to_remove(live, Some(planned)).unwrap(), ["b"]);
        assert_eq!(sids_to_remove(live, None).unwrap(), ["a", "b", "c"]);
        assert!(sids_to_remove(r#"{"Statement":[{"Effect":"Allow"}]}"#, None).is_err());
        assert!(sids_to_remove("not json", None).is_err());
        assert_eq!(function_and_qualifier("f:live"), ("f", Some("live")));
    }
}
