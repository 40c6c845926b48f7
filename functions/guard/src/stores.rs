//! The policy stores of the queue, topic, function, secret, repository and event bus
//! kinds: how the guard reads, writes and deletes each one's policy, and how `scan` lists
//! them (every page). One small adapter per kind; the engine's registry
//! (`crossguard_engine::kinds`) holds everything else about the kind.

use crate::aws::{aws_error, same_region};
use crate::ports::{AwsError, Live, PolicyStore};
use crossguard_engine::{Resource, ResourceKind};

fn refused(operation: &'static str, message: &str) -> AwsError {
    AwsError {
        operation,
        code: None,
        message: message.to_string(),
    }
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
        // Without MaxResults, SQS answers up to 1,000 queues and no token for the rest.
        let p = self
            .0
            .list_queues()
            .into_paginator()
            .page_size(page.unwrap_or(1000));
        let urls: Vec<String> = p
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListQueues", &e))?;
        Ok(urls
            .iter()
            .filter_map(|u| u.rsplit('/').next().map(str::to_string))
            .collect())
    }
}

impl PolicyStore for QueuePolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Queue
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
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
        let topics = self
            .0
            .list_topics()
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListTopics", &e))?;
        Ok(topics.into_iter().filter_map(|t| t.topic_arn).collect())
    }
}

impl PolicyStore for TopicPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Topic
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
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

    /// Every function name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut p = self.0.list_functions().into_paginator();
        if let Some(n) = page {
            p = p.page_size(n);
        }
        let functions = p
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListFunctions", &e))?;
        Ok(functions
            .into_iter()
            .filter_map(|f| f.function_name)
            .collect())
    }
}

impl PolicyStore for FunctionPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Function
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
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

    async fn write(&self, _: &Resource, _: &str) -> Result<(), AwsError> {
        Err(refused(
            "RemovePermission",
            "a function policy is edited a statement at a time: the plan's statements are removed by Sid",
        ))
    }

    async fn delete(&self, _: &Resource) -> Result<(), AwsError> {
        Err(refused(
            "RemovePermission",
            "a function policy is edited a statement at a time: the plan's statements are removed by Sid",
        ))
    }

    async fn remove_statements(&self, r: &Resource, sids: &[String]) -> Result<(), AwsError> {
        let (function, qualifier) = function_and_qualifier(&r.name);
        for sid in sids {
            match self
                .0
                .remove_permission()
                .function_name(function)
                .set_qualifier(qualifier.map(str::to_string))
                .statement_id(sid)
                .send()
                .await
            {
                Ok(_) => {}
                // Already gone: what the plan wanted.
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_lambda::operation::remove_permission::RemovePermissionError::is_resource_not_found_exception,
                    ) => {}
                Err(e) => return Err(aws_error("RemovePermission", &e)),
            }
        }
        Ok(())
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
        let mut p = self.0.list_secrets().into_paginator();
        if let Some(n) = page {
            p = p.page_size(n);
        }
        // The model gives ListSecrets pages, not items.
        let pages = p
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListSecrets", &e))?;
        Ok(pages
            .into_iter()
            .flat_map(|page| page.secret_list.unwrap_or_default())
            .filter_map(|s| s.arn)
            .collect())
    }
}

impl PolicyStore for SecretPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Secret
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
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
        let mut p = self.0.describe_repositories().into_paginator();
        if let Some(n) = page {
            p = p.page_size(n);
        }
        let repositories = p
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("DescribeRepositories", &e))?;
        Ok(repositories
            .into_iter()
            .filter_map(|r| r.repository_name)
            .collect())
    }
}

impl PolicyStore for RepositoryPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Repository
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
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

    /// Every event bus name, page by page (EventBridge's model has no paginator for it).
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
        same_region(self.0.config().region(), r)?;
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

    async fn write(&self, _: &Resource, _: &str) -> Result<(), AwsError> {
        Err(refused(
            "RemovePermission",
            "an event bus policy is edited a statement at a time: the plan's statements are removed by Sid",
        ))
    }

    async fn delete(&self, _: &Resource) -> Result<(), AwsError> {
        Err(refused(
            "RemovePermission",
            "an event bus policy is edited a statement at a time: the plan's statements are removed by Sid",
        ))
    }

    async fn remove_statements(&self, r: &Resource, sids: &[String]) -> Result<(), AwsError> {
        for sid in sids {
            match self
                .0
                .remove_permission()
                .event_bus_name(&r.name)
                .statement_id(sid)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_eventbridge::operation::remove_permission::RemovePermissionError::is_resource_not_found_exception,
                    ) => {}
                Err(e) => return Err(aws_error("RemovePermission", &e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_split_once() {
        assert_eq!(function_and_qualifier("f:live"), ("f", Some("live")));
        assert_eq!(function_and_qualifier("f"), ("f", None));
    }
}
