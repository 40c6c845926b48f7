//! S3 access points (S3 Control): read, write and list their policies.

use super::*;

/// S3 access point policies, through S3 Control in the access point's account.
#[derive(Clone)]
pub struct AccessPointPolicies(pub aws_sdk_s3control::Client);

impl AccessPointPolicies {
    /// The store on this configuration's client (a fixed endpoint against an emulator:
    /// see [`crate::aws::s3control_client`]).
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
        Self(crate::aws::s3control_client(sdk))
    }

    /// Every access point of `account` in the client's region, page by page.
    pub async fn list(&self, account: &str, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut p = self
            .0
            .list_access_points()
            .account_id(account)
            .into_paginator();
        if let Some(n) = page {
            p = p.page_size(n);
        }
        let pages: Vec<_> = p
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListAccessPoints", &e))?;
        Ok(pages
            .into_iter()
            .flat_map(|o| o.access_point_list.unwrap_or_default())
            .map(|a| a.name)
            .collect())
    }
}

impl PolicyStore for AccessPointPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::AccessPoint
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
        match self
            .0
            .get_access_point_policy()
            .account_id(&r.account)
            .name(&r.name)
            .send()
            .await
        {
            Ok(out) => Ok(out.policy.map_or(Live::NoPolicy, Live::Policy)),
            Err(e) => match e.code() {
                Some("NoSuchAccessPointPolicy") => Ok(Live::NoPolicy),
                Some("NoSuchAccessPoint") => Ok(Live::Gone),
                _ => Err(aws_error("GetAccessPointPolicy", &e)),
            },
        }
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.0
            .put_access_point_policy()
            .account_id(&r.account)
            .name(&r.name)
            .policy(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("PutAccessPointPolicy", &e))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.0
            .delete_access_point_policy()
            .account_id(&r.account)
            .name(&r.name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("DeleteAccessPointPolicy", &e))
    }
}
