//! ECR repositories: read, write and list their policies.

use super::*;

/// ECR repository policies.
#[derive(Clone)]
pub struct RepositoryPolicies(pub aws_sdk_ecr::Client);

impl RepositoryPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
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
