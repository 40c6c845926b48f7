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

use aws_types::SdkConfig;
use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use std::sync::Arc;

/// The functions' SDK configuration, built from what Lambda puts in the environment:
/// credentials (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`),
/// `AWS_REGION`, and `AWS_ENDPOINT_URL` for a local emulator; standard retries. No
/// profile files, container or instance metadata: the full provider chains of aws-config
/// are for people's machines (`scan`); left out, they keep each function's package under
/// 3 MB.
pub fn lambda_sdk_config() -> Result<SdkConfig, ConfigError> {
    sdk_config_from(|k| std::env::var(k).ok(), std::env::vars().map(|(k, _)| k))
}

/// [`lambda_sdk_config`] from `var` (the environment) and the names it holds.
pub fn sdk_config_from(
    var: impl Fn(&str) -> Option<String>,
    mut names: impl Iterator<Item = String>,
) -> Result<SdkConfig, ConfigError> {
    use aws_sdk_s3::config::{
        retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Credentials, Region,
        SharedCredentialsProvider,
    };
    let var = |k: &str| var(k).filter(|v| !v.trim().is_empty());
    let need = |k: &'static str| {
        var(k).ok_or(ConfigError::Missing(
            k,
            "Lambda sets it: the function's credentials",
        ))
    };
    // Lambda's credentials last as long as the container; they are read once.
    let credentials = Credentials::new(
        need("AWS_ACCESS_KEY_ID")?,
        need("AWS_SECRET_ACCESS_KEY")?,
        var("AWS_SESSION_TOKEN"),
        None,
        "lambda-environment",
    );
    let mut b = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .http_client(http_client())
        .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
            aws_smithy_async::rt::sleep::TokioSleep::new(),
        ))
        .time_source(aws_smithy_async::time::SharedTimeSource::default())
        .retry_config(RetryConfig::standard())
        // The SDK's own default for this behaviour version.
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(std::time::Duration::from_millis(3100))
                .build(),
        )
        .credentials_provider(SharedCredentialsProvider::new(credentials));
    b.set_region(
        var("AWS_REGION")
            .or_else(|| var("AWS_DEFAULT_REGION"))
            .map(Region::new),
    );
    b.set_endpoint_url(var("AWS_ENDPOINT_URL"));
    let flag = |k: &'static str| match var(k).map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(None),
        Some(v) if v == "true" => Ok(Some(true)),
        Some(v) if v == "false" => Ok(Some(false)),
        Some(_) => Err(ConfigError::Invalid(k, "true or false")),
    };
    b.set_use_fips(flag("AWS_USE_FIPS_ENDPOINT")?);
    b.set_use_dual_stack(flag("AWS_USE_DUALSTACK_ENDPOINT")?);
    if let Some(n) = var("AWS_MAX_ATTEMPTS") {
        let n = n
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or(ConfigError::Invalid(
                "AWS_MAX_ATTEMPTS",
                "a positive number",
            ))?;
        b.set_retry_config(Some(RetryConfig::standard().with_max_attempts(n)));
    }
    // The SDK settings these functions do not read stop them, rather than being ignored.
    if let Some(k) = names.find(|k| {
        k.starts_with("AWS_ENDPOINT_URL_")
            || k == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"
            || k == "AWS_RETRY_MODE"
    }) {
        return Err(ConfigError::Unread(k));
    }
    Ok(b.build())
}

/// The one HTTPS client every AWS client here uses: hyper with rustls on ring. The SDK's
/// default features would link a second stack (aws-lc-rs) and make each package twice
/// the size. Its connector (and the system's root certificates) is built on first use.
pub fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    use aws_smithy_http_client::{proxy::ProxyConfig, tls, Builder, ConnectorBuilder};
    // As the SDK's own default client does: its settings and sleep per client, and
    // HTTP(S)_PROXY / NO_PROXY from the environment.
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut conn = ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ));
        conn.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            conn.set_sleep_impl(components.sleep_impl());
        }
        conn.set_proxy_config(Some(ProxyConfig::from_env()));
        conn.build()
    })
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
/// comes from `AWS_LAMBDA_LOG_LEVEL` or `RUST_LOG` (a level name; default `info`; Lambda's
/// `FATAL` is `error`). A plain level, not an `EnvFilter`: that one links a regex engine,
/// a tenth of the package.
pub fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .map(|l| l.trim().to_ascii_lowercase())
        .and_then(|l| match l.as_str() {
            "fatal" => Some(tracing::level_filters::LevelFilter::ERROR),
            l => l.parse().ok(),
        })
        .unwrap_or(tracing::level_filters::LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .json()
        .with_max_level(level)
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

/// The Lambda entry point: configuration read at start (the environment only), then the
/// guard built on the first event and kept for the container's life, then one call of the
/// handler per event. `policies` builds the function's policy client on a configuration
/// (its own account's, or a member account's assumed role).
pub async fn run<P, F>(policies: F) -> Result<(), lambda_runtime::Error>
where
    P: PolicyStore + Clone + 'static,
    F: Fn(&SdkConfig) -> P + Send + Sync + 'static,
{
    let (config, sdk, ()) = start(|_| Ok(()))?;
    let policies = Arc::new(policies);
    let guard = Lazy::new(move || {
        let (sdk, config, policies) = (sdk.clone(), config.clone(), Arc::clone(&policies));
        async move {
            let home = match &config.account {
                Some(account) => account.clone(),
                None => own_account(&sdk)
                    .await
                    .map_err(|e| ConfigError::OwnAccount(e.to_string()))?,
            };
            let make = move |c: &SdkConfig| policies(c);
            let router =
                accounts::AccountRouter::new(sdk.clone(), home, config.member.clone(), make);
            let guard = connect(&sdk, &config, router).await?;
            tracing::info!(
                allowlist = %config.allowlist,
                default_mode = guard.allowlist.mode.as_str(),
                pairings = guard.allowlist.pairings.len(),
                "ready"
            );
            Ok(guard)
        }
    });
    serve(move |payload, request_id| {
        let guard = Arc::clone(&guard);
        async move { guard.get().await?.handle(&payload, &request_id).await }
    })
    .await
}

/// What every guard function does at start, from the environment alone: JSON logs, its
/// configuration (and `more` of it, read from the same variables), the SDK's. A fault
/// stops the function, logged.
pub fn start<T>(
    more: impl FnOnce(&dyn Fn(&str) -> Option<String>) -> Result<T, ConfigError>,
) -> Result<(Config, SdkConfig, T), ConfigError> {
    init_logging();
    let var = |k: &str| std::env::var(k).ok();
    Config::from_env(var)
        .and_then(|config| Ok((config, more(&var)?, lambda_sdk_config()?)))
        .map(|(config, more, sdk)| (config, sdk, more))
        .inspect_err(|e| tracing::error!(error = %e, "configuration"))
}

/// A guard built on the first event rather than at start, so that a cold start makes no
/// network call (the allowlist in S3, STS when `ACCOUNT_ID` is unset) before Lambda hands
/// it an event. A failure fails that event (Lambda retries it, then the dead-letter
/// queue has it) and the next event tries again: nothing is decided without the guard.
pub struct Lazy<G, F> {
    cell: tokio::sync::OnceCell<G>,
    build: F,
}

impl<G, F, Fut> Lazy<G, F>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<G, ConfigError>>,
{
    pub fn new(build: F) -> Arc<Self> {
        Arc::new(Lazy {
            cell: tokio::sync::OnceCell::new(),
            build,
        })
    }

    /// The guard, built now if no event built it yet.
    pub async fn get(&self) -> Result<&G, GuardError> {
        self.cell.get_or_try_init(&self.build).await.map_err(|e| {
            tracing::error!(error = %e, "configuration");
            GuardError::Configuration(e.to_string())
        })
    }
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
            // Type-erased: the guards' futures nest deep enough to overflow the
            // compiler's layout queries inside lambda_runtime's own.
            let handled: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> =
                Box::pin(handle(event.payload, request_id.clone()));
            match handled.await {
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
