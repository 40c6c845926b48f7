//! SQS queues: read, write and list their policies.

use super::*;

/// SQS queue policies (the `Policy` attribute; `""` removes it).
#[derive(Clone)]
pub struct QueuePolicies(pub aws_sdk_sqs::Client);

impl QueuePolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
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
            .ok_or_else(|| AwsError::local("SetQueueAttributes", "the queue no longer exists"))?;
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
