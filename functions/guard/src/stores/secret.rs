//! Secrets Manager secrets: read, write and list their policies.

use super::*;

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
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
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
        // A page without SecretList has no secrets (AWS leaves empty lists out).
        Ok(pages
            .iter()
            .flat_map(
                aws_sdk_secretsmanager::operation::list_secrets::ListSecretsOutput::secret_list,
            )
            .filter_map(|s| s.arn().map(str::to_string))
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
