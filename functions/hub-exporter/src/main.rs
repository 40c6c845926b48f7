//! hub-exporter: the guards' evidence records as AWS Security Hub findings.
//!
//! Environment: `EVIDENCE_BUCKET` (the records), `ACCOUNT_ID` (the importing account;
//! when unset, the account of the ARN Lambda invoked the function by), `AWS_REGION`, and
//! optionally `AWS_ENDPOINT_URL`.

use crossguard_engine::asff::Product;
use crossguard_engine::principal::{is_account_id, partition_of_region};
use hub_exporter::{own_account, AwsHub, Exporter};
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;

fn diagnostic(error_type: &str, message: String) -> Diagnostic {
    tracing::error!(error_type, error = %message, "failed");
    Diagnostic {
        error_type: error_type.into(),
        error_message: message,
    }
}

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::init_logging();
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let sdk = crossguard_guard::lambda_sdk_config()
        .inspect_err(|e| tracing::error!(error = %e, "configuration"))?;
    let (Some(bucket), Some(region)) = (var("EVIDENCE_BUCKET"), var("AWS_REGION")) else {
        tracing::error!("EVIDENCE_BUCKET and AWS_REGION must be set");
        return Err("EVIDENCE_BUCKET and AWS_REGION must be set".into());
    };
    let account = var("ACCOUNT_ID");
    if let Some(a) = account.as_deref().filter(|a| !is_account_id(a)) {
        tracing::error!(account = a, "ACCOUNT_ID is not a 12-digit account id");
        return Err(format!("ACCOUNT_ID={a:?} is not a 12-digit account id").into());
    }
    let exporter = Arc::new(tokio::sync::OnceCell::new());
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| {
        let (exporter, sdk, bucket, region, account) = (
            Arc::clone(&exporter),
            sdk.clone(),
            bucket.clone(),
            region.clone(),
            account.clone(),
        );
        async move {
            // Built on the first event: no network call at a cold start.
            let exporter = exporter
                .get_or_try_init(|| async {
                    let account = own_account(account, &event.context.invoked_function_arn)
                        .map_err(|e| diagnostic("crossguard.Configuration", e))?;
                    let hub = hub_exporter::wire::SecurityHub::new(&sdk)
                        .map_err(|e| diagnostic("crossguard.Configuration", e))?;
                    Ok::<_, Diagnostic>(Exporter {
                        hub: AwsHub {
                            s3: crossguard_guard::aws::s3_client(&sdk),
                            bucket: bucket.clone(),
                            hub,
                        },
                        bucket,
                        product: Product {
                            partition: partition_of_region(&region).into(),
                            region,
                            account,
                        },
                    })
                })
                .await?;
            match exporter.handle(&event.payload, &crossguard_guard::handler::now().1).await {
                Ok(done) => {
                    tracing::info!(key = %done.key, imported = done.imported.len(), skipped = done.skipped.as_deref().unwrap_or(""), "exported");
                    serde_json::to_value(done)
                        .map_err(|e| diagnostic("crossguard.Record", e.to_string()))
                }
                Err(e) => Err(diagnostic(e.error_type(), e.to_string())),
            }
        }
    }))
    .await
}
