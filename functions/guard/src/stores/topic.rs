//! SNS topics: read, write and list their policies.

use super::*;

/// SNS topic policies (a topic always has one: the engine never plans a delete).
#[derive(Clone)]
pub struct TopicPolicies(pub aws_sdk_sns::Client);

impl TopicPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
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
        Err(AwsError::local(
            "SetTopicAttributes",
            "a topic always has a policy: the plan must put SNS's default back",
        ))
    }
}
