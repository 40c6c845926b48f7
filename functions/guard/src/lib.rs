//! The guard Lambdas' common core. Each function (`bucket-guard`, `role-guard`,
//! `key-guard`) is `run` with its own [`PolicyStore`]; everything else is shared:
//! configuration and clients loaded once per container, the [`handler::Guard`] that
//! claims, decides, acts, alerts and records, and JSON logs for CloudWatch.

pub mod accounts;
pub mod aws;
pub mod config;
pub mod handler;
pub mod ports;
#[cfg(feature = "stores")]
pub mod stores;
#[cfg(feature = "tamper")]
pub mod tamper;

#[cfg(test)]
mod fakes;
#[cfg(test)]
mod tests;

pub use config::{Config, ConfigError};
pub use handler::{Guard, GuardError, Handled};
pub use ports::{AlertSink, AwsError, EvidenceStore, Live, PolicyStore};

use aws_config::{BehaviorVersion, SdkConfig};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use std::sync::Arc;

/// The SDK configuration from the environment: region, credentials, and
/// `AWS_ENDPOINT_URL` for a local emulator.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A guard wired to AWS: the SNS topic and evidence bucket from `config`, the policies
/// through `policies`, the allowlist loaded (from a file or S3) and checked.
pub async fn connect<P: PolicyStore>(
    sdk: &SdkConfig,
    config: &Config,
    policies: P,
) -> Result<Guard<P, aws::SnsTopic, aws::S3Evidence>, ConfigError> {
    let s3 = aws::s3_client(sdk);
    let allowlist = load_allowlist(config, &s3).await?;
    Ok(Guard {
        policies,
        alerts: aws::SnsTopic {
            client: aws_sdk_sns::Client::new(sdk),
            topic_arn: config.alert_topic_arn.clone(),
        },
        evidence: aws::S3Evidence {
            client: s3,
            bucket: config.evidence_bucket.clone(),
        },
        allowlist,
    })
}

/// JSON logs, one object per line, as CloudWatch Logs Insights reads them. The level
/// comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".into())
        .to_lowercase();
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_current_span(false)
        .with_target(false)
        .try_init();
}

/// The account the credentials belong to (STS GetCallerIdentity).
pub async fn own_account(sdk: &SdkConfig) -> Result<String, AwsError> {
    aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws::aws_error("GetCallerIdentity", &e))?
        .account
        .ok_or_else(|| AwsError::local("GetCallerIdentity", "no account in the answer"))
}

/// The Lambda entry point: configuration and clients once, then one call of the
/// handler per event. `policies` builds the function's policy client on a configuration
/// (its own account's, or a member account's assumed role).
pub async fn run<P, F>(policies: F) -> Result<(), lambda_runtime::Error>
where
    P: PolicyStore + Clone + 'static,
    F: Fn(&SdkConfig) -> P + Send + Sync + 'static,
{
    init_logging();
    let config = Config::from_env(|k| std::env::var(k).ok()).inspect_err(|e| {
        tracing::error!(error = %e, "configuration");
    })?;
    let sdk = sdk_config().await;
    let home = match &config.account {
        Some(account) => account.clone(),
        None => own_account(&sdk)
            .await
            .inspect_err(|e| tracing::error!(error = %e, "configuration"))?,
    };
    let router = accounts::AccountRouter::new(sdk.clone(), home, config.member.clone(), policies);
    let guard = connect(&sdk, &config, router)
        .await
        .inspect_err(|e| tracing::error!(error = %e, "configuration"))?;
    tracing::info!(
        allowlist = %config.allowlist,
        default_mode = guard.allowlist.mode.as_str(),
        pairings = guard.allowlist.pairings.len(),
        "ready"
    );
    let guard = Arc::new(guard);
    serve(move |payload, request_id| {
        let guard = Arc::clone(&guard);
        async move { guard.handle(&payload, &request_id).await }
    })
    .await
}

/// The Lambda loop every guard runs: one call of `handle` per event, its outcome as the
/// function's result, a failure as a typed `errorType` (logged, and retried by Lambda).
pub async fn serve<F, Fut>(handle: F) -> Result<(), lambda_runtime::Error>
where
    F: Fn(crossguard_engine::json::Checked, String) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Vec<Handled>, GuardError>> + Send,
{
    let handle = Arc::new(handle);
    lambda_runtime::run(service_fn(move |event: LambdaEvent<crossguard_engine::json::Checked>| {
        let handle = Arc::clone(&handle);
        async move {
            let request_id = event.context.request_id.clone();
            match handle(event.payload, request_id.clone()).await {
                Ok(handled) => serde_json::to_value(handled).map_err(|e| Diagnostic {
                    error_type: "crossguard.Record".into(),
                    error_message: format!("the result could not be encoded: {e}"),
                }),
                Err(e) => {
                    tracing::error!(error = %e, error_type = e.error_type(), request_id = %request_id, "failed");
                    Err(Diagnostic::from(e))
                }
            }
        }
    }))
    .await
}

/// A payload built as a value (tests, tools), read back from its text: a value has no
/// duplicate keys left to find.
pub fn checked_payload(
    payload: &serde_json::Value,
) -> Result<crossguard_engine::json::Checked, GuardError> {
    crossguard_engine::json::from_str(&payload.to_string())
        .map_err(|e| GuardError::MalformedEvent(e.to_string()))
}

/// Read the allowlist where the configuration says (the package or S3) and check it.
pub async fn load_allowlist(
    config: &Config,
    s3: &aws_sdk_s3::Client,
) -> Result<crossguard_engine::Allowlist, ConfigError> {
    let text = match config.allowlist_at()? {
        config::AllowlistAt::S3 { bucket, key } => {
            let bytes = aws::get_object(s3, &bucket, &key)
                .await
                .map_err(|e| config.allowlist_fault(e.to_string()))?
                .ok_or_else(|| {
                    config.allowlist_fault(format!("no object {key} in bucket {bucket}"))
                })?;
            String::from_utf8(bytes).map_err(|_| config.allowlist_fault("not UTF-8 text".into()))?
        }
        config::AllowlistAt::File(path) => {
            std::fs::read_to_string(&path).map_err(|e| config.allowlist_fault(e.to_string()))?
        }
    };
    config.allowlist_from(&text)
}
