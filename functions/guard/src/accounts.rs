//! Acting in the resource's own account. A central security account receives its member
//! accounts' events; for a resource in another account the guard assumes that account's
//! remediation role (with the ExternalId it demands) and uses clients on those
//! credentials, built once per account and kept for the container's life (the SDK
//! refreshes the credentials before they expire).

use crate::ports::{AwsError, Live, PolicyStore};
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::error::DisplayErrorContext;
use aws_types::SdkConfig;
use crossguard_engine::{Resource, ResourceKind};
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::Mutex;

/// Member-account access: the role name to assume and the ExternalId to present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberAccess {
    pub role_name: String,
    pub external_id: Option<String>,
}

/// A [`PolicyStore`] that sends each call to the resource's account.
pub struct AccountRouter<P, F> {
    home_account: String,
    home: P,
    base: SdkConfig,
    make: F,
    member: Option<MemberAccess>,
    members: Mutex<HashMap<String, P>>,
}

impl<P, F> AccountRouter<P, F>
where
    P: PolicyStore + Clone,
    F: Fn(&SdkConfig) -> P + Send + Sync,
{
    /// `make` builds the store on a configuration; `home_account` is the function's own.
    pub fn new(
        base: SdkConfig,
        home_account: String,
        member: Option<MemberAccess>,
        make: F,
    ) -> Self {
        AccountRouter {
            home: make(&base),
            home_account,
            base,
            make,
            member,
            members: Mutex::new(HashMap::new()),
        }
    }

    async fn store(&self, r: &Resource) -> Result<P, AwsError> {
        if r.account == self.home_account {
            return Ok(self.home.clone());
        }
        let refused = |message: String| AwsError::local("AssumeRole", message);
        let Some(member) = &self.member else {
            return Err(refused(format!(
                "{} is in account {}, not this function's {}, and no MEMBER_ROLE_NAME is set to act there",
                r.spec(),
                r.account,
                self.home_account
            )));
        };
        let mut cache = self.members.lock().await;
        if let Some(store) = cache.get(&r.account) {
            return Ok(store.clone());
        }
        let config = member_config(&self.base, r.partition(), &r.account, member).await?;
        let store = (self.make)(&config);
        cache.insert(r.account.clone(), store.clone());
        Ok(store)
    }
}

/// `base` acting in `account` through its role `member` (assumed now, so that a refusal
/// is reported as one, naming the role; then refreshed by the SDK before it expires).
pub async fn member_config(
    base: &SdkConfig,
    partition: &str,
    account: &str,
    member: &MemberAccess,
) -> Result<SdkConfig, AwsError> {
    let arn = format!("arn:{partition}:iam::{account}:role/{}", member.role_name);
    let provider = AssumedRole {
        sts: aws_sdk_sts::Client::new(base),
        arn: arn.clone(),
        external_id: member.external_id.clone(),
    };
    provider.provide_credentials().await.map_err(|e| {
        AwsError::local("AssumeRole", format!("{arn}: {}", DisplayErrorContext(&e)))
    })?;
    Ok(base
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(provider))
        .build())
}

impl<P, F> PolicyStore for AccountRouter<P, F>
where
    P: PolicyStore + Clone,
    F: Fn(&SdkConfig) -> P + Send + Sync,
{
    fn kind(&self) -> ResourceKind {
        self.home.kind()
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        self.store(r).await?.read(r).await
    }

    async fn write(&self, r: &Resource, policy: &str) -> Result<(), AwsError> {
        self.store(r).await?.write(r, policy).await
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        self.store(r).await?.delete(r).await
    }

    async fn remove_statements(&self, r: &Resource, sids: &[String]) -> Result<(), AwsError> {
        self.store(r).await?.remove_statements(r, sids).await
    }

    async fn revoke_grant(&self, r: &Resource, grant_id: &str) -> Result<(), AwsError> {
        self.store(r).await?.revoke_grant(r, grant_id).await
    }

    async fn read_acl(&self, r: &Resource) -> Result<Live, AwsError> {
        self.store(r).await?.read_acl(r).await
    }

    async fn write_acl(&self, r: &Resource, acl: &Value) -> Result<(), AwsError> {
        self.store(r).await?.write_acl(r, acl).await
    }

    async fn read_public_access_block(&self, r: &Resource) -> Result<Live, AwsError> {
        self.store(r).await?.read_public_access_block(r).await
    }

    async fn write_public_access_block(&self, r: &Resource, s: &Value) -> Result<(), AwsError> {
        self.store(r).await?.write_public_access_block(r, s).await
    }
}

/// Credentials of the member account's role, from STS AssumeRole. The clients built on
/// them cache each set until shortly before it expires, then ask again (the SDK's identity
/// cache), as aws-config's `AssumeRoleProvider` does; this one spares the functions that
/// crate's whole default provider chain, which its fallback links.
#[derive(Debug)]
struct AssumedRole {
    sts: aws_sdk_sts::Client,
    arn: String,
    external_id: Option<String>,
}

impl ProvideCredentials for AssumedRole {
    fn provide_credentials<'a>(
        &'a self,
    ) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        use aws_credential_types::provider::error::CredentialsError;
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let out = self
                .sts
                .assume_role()
                .role_arn(&self.arn)
                .role_session_name("crossguard")
                .set_external_id(self.external_id.clone())
                .send()
                .await
                .map_err(CredentialsError::provider_error)?;
            let c = out.credentials.ok_or_else(|| {
                CredentialsError::provider_error("AssumeRole returned no credentials")
            })?;
            let expiry = std::time::SystemTime::try_from(c.expiration)
                .map_err(CredentialsError::provider_error)?;
            Ok(aws_credential_types::Credentials::new(
                c.access_key_id,
                c.secret_access_key,
                Some(c.session_token),
                Some(expiry),
                "crossguard-assume-role",
            ))
        })
    }
}
