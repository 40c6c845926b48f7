//! Security Hub's two calls, GetFindings and BatchImportFindings, made on the SDK's own
//! orchestrator (its retries, timeouts, HTTPS client and SigV4 signing) with their JSON
//! written and read here. The generated Security Hub client (de)serialises every ASFF
//! resource type: 2.5 MB of code, 44% of this function's, for the dozen fields
//! crossguard writes and the few it reads back. The unit tests hold what is written and
//! read here, the endpoint and the signature to the generated client's own.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_runtime::auth::{sigv4, SigV4OperationSigningConfig, SigningOptions};
use aws_runtime::service_clock_skew::{ServiceClockSkewClassifier, ServiceClockSkewInterceptor};
use aws_smithy_runtime::client::orchestrator::operation::Operation;
use aws_smithy_runtime::client::retries::classifiers::{
    HttpStatusCodeClassifier, TransientErrorClassifier,
};
use aws_smithy_runtime::client::stalled_stream_protection::StalledStreamProtectionInterceptor;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::auth::static_resolver::StaticAuthSchemeOptionResolver;
use aws_smithy_runtime_api::client::auth::{
    AuthSchemeOptionResolverParams, SharedAuthScheme, SharedAuthSchemeOptionResolver,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse, OrchestratorError};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::StaticRuntimePlugin;
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::config_bag::Layer;
use aws_smithy_types::error::ErrorMetadata;
use aws_types::region::SigningRegion;
use aws_types::{SdkConfig, SigningName};
use crossguard_engine::asff::{AsffFinding, Prior, PARTY_FIELD};
use crossguard_guard::aws::aws_error;
use crossguard_guard::AwsError;
use serde_json::{json, Map, Value};

/// The service's name in signatures and endpoints.
const SERVICE: &str = "securityhub";

/// Security Hub's HTTPS endpoint for `region`, as the SDK's endpoint rules make it for the
/// partitions crossguard knows (the unit tests hold it to the SDK's resolver). Another
/// partition's region is refused, not guessed into a wrong host.
pub fn endpoint(region: &str, fips: bool, dual_stack: bool) -> Result<String, String> {
    // The partitions' own region patterns: `aws` `^(us|eu|ap|sa|ca|me|af|il|mx)-\w+-\d+$`,
    // `aws-us-gov` `^us-gov-\w+-\d+$`, `aws-cn` `^cn-\w+-\d+$`. Anything else (an
    // isolated or sovereign partition, a region not yet known) has other hosts.
    let parts: Vec<&str> = region.split('-').collect();
    let word = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let number = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let shaped = |n: usize| parts.len() == n && word(parts[n - 2]) && number(parts[n - 1]);
    let (dns, dual) = if shaped(3) && parts[0] == "cn" {
        ("amazonaws.com.cn", "api.amazonwebservices.com.cn")
    } else if (shaped(4) && parts[..2] == ["us", "gov"])
        || (shaped(3) && ["us", "eu", "ap", "sa", "ca", "me", "af", "il", "mx"].contains(&parts[0]))
    {
        ("amazonaws.com", "api.aws")
    } else {
        return Err(format!(
            "region {region:?} is not in a partition whose Security Hub endpoint this \
             function knows (aws, aws-cn, aws-us-gov): set AWS_ENDPOINT_URL"
        ));
    };
    let host = if fips { "securityhub-fips" } else { SERVICE };
    Ok(format!(
        "https://{host}.{region}.{}",
        if dual_stack { dual } else { dns }
    ))
}

/// The two operations, configured once from the function's SDK configuration.
#[derive(Clone, Debug)]
pub struct SecurityHub {
    get_findings: Operation<Value, Value, ErrorMetadata>,
    import_findings: Operation<Value, Value, ErrorMetadata>,
}

impl SecurityHub {
    /// From `sdk`: its region, credentials, HTTPS client, retry and timeout settings, and
    /// `AWS_ENDPOINT_URL` when set.
    pub fn new(sdk: &SdkConfig) -> Result<SecurityHub, String> {
        let region = sdk
            .region()
            .ok_or("AWS_REGION is not set")?
            .as_ref()
            .to_string();
        let (fips, dual) = (
            sdk.use_fips().unwrap_or(false),
            sdk.use_dual_stack().unwrap_or(false),
        );
        let url =
            match sdk.endpoint_url() {
                // As the SDK refuses them: a custom endpoint cannot be made FIPS or dual-stack.
                Some(_) if fips || dual => return Err(
                    "AWS_ENDPOINT_URL with AWS_USE_FIPS_ENDPOINT or AWS_USE_DUALSTACK_ENDPOINT: \
                     a custom endpoint is neither"
                        .into(),
                ),
                Some(url) => url.to_string(),
                None => endpoint(&region, fips, dual)?,
            };
        let credentials = sdk
            .credentials_provider()
            .ok_or("no credentials in the SDK configuration")?;
        Ok(SecurityHub {
            get_findings: operation(sdk, &region, &url, &credentials, "GetFindings", "/findings"),
            import_findings: operation(
                sdk,
                &region,
                &url,
                &credentials,
                "BatchImportFindings",
                "/findings/import",
            ),
        })
    }

    /// GetFindings with `body` as its request.
    pub async fn get_findings(&self, body: Value) -> Result<Value, AwsError> {
        self.get_findings
            .invoke(body)
            .await
            .map_err(|e| aws_error("GetFindings", &e))
    }

    /// BatchImportFindings with `body` as its request.
    pub async fn import_findings(&self, body: Value) -> Result<Value, AwsError> {
        self.import_findings
            .invoke(body)
            .await
            .map_err(|e| aws_error("BatchImportFindings", &e))
    }
}

/// One restJson1 operation: a POST of a JSON body to `path`, its answer a JSON object.
fn operation(
    sdk: &SdkConfig,
    region: &str,
    url: &str,
    credentials: &SharedCredentialsProvider,
    name: &'static str,
    path: &'static str,
) -> Operation<Value, Value, ErrorMetadata> {
    let mut b = Operation::builder()
        .service_name(SERVICE)
        .operation_name(name)
        .endpoint_url(url)
        .standard_retry(
            &sdk.retry_config()
                .cloned()
                .unwrap_or_else(aws_smithy_types::retry::RetryConfig::standard),
        )
        .with_connection_poisoning()
        // Throttling and the other transient error codes, as every generated client
        // retries them; 5xx and connection faults through the two below.
        .retry_classifier(aws_runtime::retries::classifiers::AwsErrorCodeClassifier::<
            ErrorMetadata,
        >::new())
        .retry_classifier(HttpStatusCodeClassifier::default())
        .retry_classifier(TransientErrorClassifier::<ErrorMetadata>::new())
        // A signature refused for a skewed clock is retried with the service's time, and
        // an answer that stalls is cut off and retried, as the generated clients do.
        .retry_classifier(ServiceClockSkewClassifier::<ErrorMetadata>::new())
        .interceptor(ServiceClockSkewInterceptor::new())
        .interceptor(StalledStreamProtectionInterceptor::default())
        // The headers every generated client sends: the user agent, the call's id and
        // attempt, and on Lambda the X-Ray trace id (X-Amzn-Trace-Id), which links these
        // calls to the function's trace.
        .interceptor(aws_runtime::user_agent::UserAgentInterceptor::new())
        .interceptor(aws_runtime::invocation_id::InvocationIdInterceptor::new())
        .interceptor(aws_runtime::request_info::RequestInfoInterceptor::new())
        .interceptor(aws_runtime::recursion_detection::RecursionDetectionInterceptor::new())
        .runtime_plugin(signing(region, credentials));
    if let Some(t) = sdk.timeout_config() {
        b = b.timeout_config(t.clone());
    }
    if let Some(v) = sdk.behavior_version() {
        b = b.behavior_version(v);
    }
    if let Some(client) = sdk.http_client() {
        b = b.http_client(client);
    }
    if let Some(sleep) = sdk.sleep_impl() {
        b = b.sleep_impl(sleep);
    }
    if let Some(time) = sdk.time_source() {
        b = b.time_source(time);
    }
    b.serializer(move |body: Value| request(path, &body))
        .deserializer(response)
        .build()
}

/// SigV4 with the function's credentials, for Security Hub in `region`: what the generated
/// client's service plugin registers.
fn signing(region: &str, credentials: &SharedCredentialsProvider) -> StaticRuntimePlugin {
    // As the generated client signs a restJson1 call.
    let mut options = SigningOptions::default();
    options.double_uri_encode = true;
    options.content_sha256_header = false;
    options.normalize_uri_path = true;
    let mut layer = Layer::new("securityhub signing");
    layer.store_put(AuthSchemeOptionResolverParams::new(()));
    // What the user agent names as the API called.
    layer.store_put(aws_runtime::user_agent::ApiMetadata::new(
        SERVICE,
        env!("CARGO_PKG_VERSION"),
    ));
    layer.store_put(SigV4OperationSigningConfig {
        region: Some(SigningRegion::from(aws_types::region::Region::new(
            region.to_string(),
        ))),
        name: Some(SigningName::from_static(SERVICE)),
        region_set: None,
        signing_options: options,
    });
    let components = RuntimeComponentsBuilder::new("securityhub signing")
        .with_auth_scheme_option_resolver(Some(SharedAuthSchemeOptionResolver::new(
            StaticAuthSchemeOptionResolver::new(vec![sigv4::SCHEME_ID]),
        )))
        .with_auth_scheme(SharedAuthScheme::new(sigv4::SigV4AuthScheme::new()))
        .with_identity_resolver(sigv4::SCHEME_ID, credentials.clone());
    StaticRuntimePlugin::new()
        .with_config(layer.freeze())
        .with_runtime_components(components)
}

/// The HTTP request of a call: its JSON body POSTed to `path`.
fn request(path: &str, body: &Value) -> Result<HttpRequest, BoxError> {
    let bytes = serde_json::to_vec(body)?;
    let len = bytes.len();
    let mut req = HttpRequest::new(SdkBody::from(bytes));
    req.set_method("POST")?;
    req.set_uri(path)?;
    req.headers_mut().insert("content-type", "application/json");
    req.headers_mut().insert("content-length", len.to_string());
    Ok(req)
}

/// A 2xx answer's JSON object, or the service's error code and message (restJson1, read
/// as the generated clients read it: the `x-amzn-errortype` header, else the body's
/// `code`, else its `__type`).
fn response(res: &HttpResponse) -> Result<Value, OrchestratorError<ErrorMetadata>> {
    let body = res.body().bytes().unwrap_or_default();
    if !res.status().is_success() {
        let doc: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let field = |k: &str| doc.get(k).and_then(Value::as_str);
        let code = res
            .headers()
            .get("x-amzn-errortype")
            .or_else(|| field("code"))
            .or_else(|| field("__type"))
            .map(sanitize_code);
        let message = field("message")
            .or_else(|| field("Message"))
            .or_else(|| field("errorMessage"));
        let mut meta = ErrorMetadata::builder();
        match code {
            Some(code) => meta = meta.code(code),
            // Without a code the status says what happened (aws_error prints the code).
            None => meta = meta.code(format!("HTTP {}", res.status().as_u16())),
        }
        if let Some(m) = message {
            meta = meta.message(m);
        }
        return Err(OrchestratorError::operation(meta.build()));
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(OrchestratorError::other("the answer is not a JSON object")),
        Err(e) => Err(OrchestratorError::other(format!(
            "the answer is not JSON: {e}"
        ))),
    }
}

/// `aws.protocoltests#FooError:http://…` → `FooError`, as the SDK reads an error type:
/// cut at the first `:`, then after the first `#`.
fn sanitize_code(code: &str) -> &str {
    let code = code.split_once(':').map_or(code, |(c, _)| c);
    code.split_once('#').map_or(code, |(_, c)| c)
}

/// A GetFindings request: the active findings of `product` whose id starts with
/// `prefix`, about `resource`; a page of at most 100.
pub fn get_findings_request(
    product: &str,
    resource: &str,
    prefix: &str,
    token: Option<&str>,
) -> Value {
    let filter =
        |value: &str, comparison: &str| json!([{"Value": value, "Comparison": comparison}]);
    let mut body = json!({
        "Filters": {
            "ProductArn": filter(product, "EQUALS"),
            "ResourceId": filter(resource, "EQUALS"),
            "Id": filter(prefix, "PREFIX"),
            "RecordState": filter("ACTIVE", "EQUALS"),
        },
        "MaxResults": 100,
    });
    if let Some(t) = token {
        body["NextToken"] = t.into();
    }
    body
}

/// A GetFindings page: its findings held for `product` and `resource` with ids starting
/// with `prefix` (the filters again: an emulator, or a changed API, that ignores one must
/// not make another resource's finding look like this one's), and the next page's token.
/// A page whose shape is not GetFindings' is an error: nothing is read into it.
pub fn get_findings_page(
    page: &Value,
    product: &str,
    resource: &str,
    prefix: &str,
) -> Result<(Vec<Prior>, Option<String>), String> {
    // `Findings` is in every answer: one without it is not read as "nothing held".
    let findings = match page.get("Findings") {
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err("Findings is not a list".into()),
        None => return Err("no Findings in the answer".into()),
    };
    let mut out = Vec::new();
    for f in findings {
        let f = Fields(f.as_object().ok_or("a finding is not an object")?);
        let resources = f.list("Resources")?;
        let mut ids = Vec::with_capacity(resources.len());
        for r in resources {
            ids.push(Fields(r.as_object().ok_or("a resource is not an object")?).text("Id")?);
        }
        let id = f.text("Id")?;
        let ours = id.is_some_and(|id| id.starts_with(prefix))
            && f.text("ProductArn")? == Some(product)
            && ids.contains(&Some(resource))
            && f.text("RecordState")? != Some("ARCHIVED");
        if !ours {
            continue;
        }
        // Security Hub holds no finding without them: one that lacks them is an answer
        // not understood, not a finding to start afresh (or to leave unresolved).
        let (Some(id), Some(created_at)) = (id, f.text("CreatedAt")?.filter(|c| !c.is_empty()))
        else {
            return Err(format!("finding {id:?} has no CreatedAt"));
        };
        let status = |k: &str| -> Result<Option<String>, String> {
            match f.0.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(o)) => Ok(Fields(o).text("Status")?.map(str::to_string)),
                Some(_) => Err(format!("{k} is not an object")),
            }
        };
        let party = match f.0.get("ProductFields") {
            None | Some(Value::Null) => None,
            Some(Value::Object(o)) => Fields(o).text(PARTY_FIELD)?.map(str::to_string),
            Some(_) => return Err("ProductFields is not an object".into()),
        };
        out.push(Prior {
            id: id.to_string(),
            created_at: created_at.to_string(),
            first_observed_at: f.text("FirstObservedAt")?.map(str::to_string),
            last_observed_at: f.text("LastObservedAt")?.map(str::to_string),
            compliance: status("Compliance")?,
            workflow: status("Workflow")?,
            party,
        });
    }
    let token = Fields(page.as_object().ok_or("the page is not an object")?)
        .text("NextToken")?
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    Ok((out, token))
}

/// A JSON object's members read as the SDK reads them: absent or null is `None`, a
/// member of another type than its field's is an error.
struct Fields<'a>(&'a Map<String, Value>);

impl<'a> Fields<'a> {
    fn text(&self, k: &str) -> Result<Option<&'a str>, String> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(format!("{k} is not a string")),
        }
    }

    fn list(&self, k: &str) -> Result<&'a [Value], String> {
        match self.0.get(k) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(format!("{k} is not a list")),
        }
    }
}

/// A BatchImportFindings request of `findings`, each in ASFF's JSON: the severity and
/// types also as the provider's (`FindingProviderFields`), where a provider updates them
/// after a person may have changed the top-level ones.
pub fn import_request(findings: &[AsffFinding]) -> Value {
    let findings: Vec<Value> = findings
        .iter()
        .map(|f| {
            let resources: Vec<Value> = f
                .resources
                .iter()
                .map(|r| {
                    json!({"Type": r.kind, "Id": r.id, "Partition": r.partition.as_str(),
                           "Region": r.region})
                })
                .collect();
            json!({
                "SchemaVersion": f.schema_version,
                "Id": f.id,
                "ProductArn": f.product_arn,
                "GeneratorId": f.generator_id,
                "AwsAccountId": f.aws_account_id,
                "Region": f.region,
                "Types": f.types,
                "CreatedAt": f.created_at,
                "UpdatedAt": f.updated_at,
                "FirstObservedAt": f.first_observed_at,
                "LastObservedAt": f.last_observed_at,
                "Severity": {"Label": f.severity},
                "FindingProviderFields": {"Severity": {"Label": f.severity}, "Types": f.types},
                "Title": f.title,
                "Description": f.description,
                "Remediation": {"Recommendation": {"Text": f.remediation}},
                "ProductFields": f.product_fields,
                "Resources": resources,
                "Compliance": {"Status": f.compliance.as_str()},
                "Workflow": {"Status": f.workflow},
                "RecordState": f.record_state,
            })
        })
        .collect();
    json!({ "Findings": findings })
}

/// A BatchImportFindings answer for `sent` findings: every one taken, or an error naming
/// each refused one. `FailedCount` is always in the answer, and `SuccessCount` must be
/// what was sent: without them, nothing says the import took.
pub fn import_answer(out: &Value, sent: usize) -> Result<(), AwsError> {
    let fail = |why: String| AwsError::local("BatchImportFindings", why);
    let failed = match out.get("FailedFindings") {
        None | Some(Value::Null) => &[][..],
        Some(Value::Array(a)) => a.as_slice(),
        Some(_) => return Err(fail("FailedFindings is not a list".into())),
    };
    let count = out.get("FailedCount").and_then(Value::as_u64);
    let taken = out.get("SuccessCount").and_then(Value::as_u64);
    if count == Some(0) && failed.is_empty() && taken == Some(sent as u64) {
        return Ok(());
    }
    if count == Some(0) && failed.is_empty() {
        return Err(fail(format!(
            "{sent} finding(s) sent, SuccessCount {}",
            taken.map_or_else(|| "absent".into(), |n| n.to_string())
        )));
    }
    let text = |f: &Value, k: &str| f.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let why: Vec<String> = failed
        .iter()
        .map(|f| {
            let id = f.get("Id").and_then(Value::as_str).unwrap_or("?");
            format!("{id}: {} {}", text(f, "ErrorCode"), text(f, "ErrorMessage"))
        })
        .collect();
    Err(fail(format!(
        "{} finding(s) refused: {}",
        count.map_or_else(|| "an unknown number of".into(), |n| n.to_string()),
        why.join("; ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_securityhub::types as sdk;
    use aws_smithy_async::time::{SharedTimeSource, StaticTimeSource};
    use aws_smithy_http_client::test_util::infallible_client_fn;
    use aws_smithy_types::retry::RetryConfig;
    use crossguard_engine::asff::{AsffResource, Compliance};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};

    type Seen = Arc<Mutex<Vec<http::Request<Vec<u8>>>>>;
    /// An answer: status, headers, body.
    type Answer = (u16, Vec<(&'static str, &'static str)>, String);

    /// An HTTPS client that records each request and answers each with the next of
    /// `answers` (status, headers, body), the last one again when they run out.
    fn recorder(
        answers: Vec<Answer>,
    ) -> (aws_smithy_runtime_api::client::http::SharedHttpClient, Seen) {
        let seen: Seen = Arc::default();
        let log = Arc::clone(&seen);
        let client =
            infallible_client_fn(move |req: http::Request<aws_smithy_types::body::SdkBody>| {
                let mut log = log.lock().unwrap();
                let (parts, body) = req.into_parts();
                log.push(http::Request::from_parts(
                    parts,
                    body.bytes().unwrap().to_vec(),
                ));
                let (status, headers, body) =
                    answers[(log.len() - 1).min(answers.len() - 1)].clone();
                let mut res = http::Response::builder().status(status);
                for (k, v) in headers {
                    res = res.header(k, v);
                }
                res.body(body).unwrap()
            });
        (client, seen)
    }

    fn config(client: aws_smithy_runtime_api::client::http::SharedHttpClient) -> SdkConfig {
        SdkConfig::builder()
            .behavior_version(
                aws_smithy_runtime_api::client::behavior_version::BehaviorVersion::latest(),
            )
            .region(aws_types::region::Region::new("eu-west-1"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDEXAMPLE",
                "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                Some("session-token".into()),
                None,
                "test",
            )))
            .http_client(client)
            .sleep_impl(aws_smithy_async::rt::sleep::SharedAsyncSleep::new(
                aws_smithy_async::rt::sleep::TokioSleep::new(),
            ))
            .time_source(SharedTimeSource::new(StaticTimeSource::new(
                UNIX_EPOCH + Duration::from_secs(1_764_756_000),
            )))
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(3)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .build()
    }

    fn finding(n: usize, compliance: Compliance) -> AsffFinding {
        AsffFinding {
            schema_version: crossguard_engine::asff::SCHEMA_VERSION,
            id: format!("crossguard/policy/arn:aws:s3:::data/11111111111{n}"),
            product_arn: "arn:aws:securityhub:eu-west-1:222222222222:product/222222222222/default"
                .into(),
            generator_id: "crossguard/bucket/policy".into(),
            aws_account_id: "222222222222".into(),
            region: "eu-west-1".into(),
            types: vec![
                "Software and Configuration Checks/AWS Security Best Practices".into(),
                "Effects/Data Exposure".into(),
            ],
            created_at: "2026-12-02T10:00:00Z".into(),
            updated_at: "2026-12-03T10:00:00Z".into(),
            first_observed_at: "2026-12-02T09:59:00Z".into(),
            last_observed_at: "2026-12-03T09:59:00Z".into(),
            severity: "CRITICAL",
            title: format!("Bucket data shared with account 11111111111{n} \"unapproved\" ✓"),
            description: "A \\ long\n description".into(),
            remediation: "Remove the grant, or approve it in the allowlist".into(),
            product_fields: [
                ("crossguard/party".to_string(), format!("11111111111{n}")),
                ("crossguard/event_id".to_string(), "e-1".to_string()),
            ]
            .into_iter()
            .collect(),
            resources: vec![AsffResource {
                kind: "AwsS3Bucket".into(),
                id: "arn:aws:s3:::data".into(),
                partition: "aws".into(),
                region: "eu-west-1".into(),
            }],
            compliance,
            workflow: if n == 0 {
                "NEW".into()
            } else {
                "RESOLVED".into()
            },
            record_state: "ACTIVE",
        }
    }

    /// The finding in the generated client's shape, as the exporter built it before.
    fn to_sdk(f: AsffFinding) -> sdk::AwsSecurityFinding {
        let resources = f
            .resources
            .into_iter()
            .map(|r| {
                sdk::Resource::builder()
                    .r#type(r.kind)
                    .id(r.id)
                    .partition(r.partition.as_str().into())
                    .region(r.region)
                    .build()
            })
            .collect();
        sdk::AwsSecurityFinding::builder()
            .schema_version(f.schema_version)
            .id(f.id)
            .product_arn(f.product_arn)
            .generator_id(f.generator_id)
            .aws_account_id(f.aws_account_id)
            .region(f.region)
            .set_types(Some(f.types.clone()))
            .created_at(f.created_at)
            .updated_at(f.updated_at)
            .first_observed_at(f.first_observed_at)
            .last_observed_at(f.last_observed_at)
            .severity(
                sdk::Severity::builder()
                    .label(sdk::SeverityLabel::from(f.severity))
                    .build(),
            )
            .finding_provider_fields(
                sdk::FindingProviderFields::builder()
                    .severity(
                        sdk::FindingProviderSeverity::builder()
                            .label(sdk::SeverityLabel::from(f.severity))
                            .build(),
                    )
                    .set_types(Some(f.types))
                    .build(),
            )
            .title(f.title)
            .description(f.description)
            .remediation(
                sdk::Remediation::builder()
                    .recommendation(sdk::Recommendation::builder().text(f.remediation).build())
                    .build(),
            )
            .set_product_fields(Some(f.product_fields.into_iter().collect()))
            .set_resources(Some(resources))
            .compliance(
                sdk::Compliance::builder()
                    .status(sdk::ComplianceStatus::from(f.compliance.as_str()))
                    .build(),
            )
            .workflow(
                sdk::Workflow::builder()
                    .status(sdk::WorkflowStatus::from(f.workflow.as_str()))
                    .build(),
            )
            .record_state(sdk::RecordState::from(f.record_state))
            .build()
    }

    /// What the exporter read of a held finding before: the generated client's fields.
    fn prior(f: &sdk::AwsSecurityFinding) -> Option<Prior> {
        Some(Prior {
            id: f.id()?.to_string(),
            created_at: f.created_at()?.to_string(),
            first_observed_at: f.first_observed_at().map(str::to_string),
            last_observed_at: f.last_observed_at().map(str::to_string),
            compliance: f
                .compliance()
                .and_then(sdk::Compliance::status)
                .map(|s| s.as_str().to_string()),
            workflow: f
                .workflow()
                .and_then(sdk::Workflow::status)
                .map(|s| s.as_str().to_string()),
            party: f.product_fields().and_then(|p| p.get(PARTY_FIELD)).cloned(),
        })
    }

    fn header<'a>(req: &'a http::Request<Vec<u8>>, k: &str) -> &'a str {
        req.headers().get(k).map_or("", |v| v.to_str().unwrap())
    }

    /// `Credential=…/scope, SignedHeaders=…` of the Authorization header: what a
    /// signature covers and for which service, region and day.
    fn signed(req: &http::Request<Vec<u8>>) -> (String, String) {
        let auth = header(req, "authorization");
        assert!(auth.starts_with("AWS4-HMAC-SHA256 "), "{auth}");
        let part = |name: &str| {
            auth.split([' ', ','])
                .find_map(|p| p.strip_prefix(name))
                .unwrap_or_else(|| panic!("no {name} in {auth}"))
                .to_string()
        };
        (part("Credential="), part("SignedHeaders="))
    }

    /// The signature a SigV4 verifier computes for `req` over the headers its
    /// Authorization says it signed: what Security Hub checks, made by aws-sigv4 alone.
    fn expected_signature(req: &http::Request<Vec<u8>>) -> String {
        use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
        let (_, names) = signed(req);
        // x-amz-date and the token are the signer's own, from the parameters below; the
        // host it reads from the URI.
        let headers = names
            .split(';')
            .filter(|h| !["host", "x-amz-date", "x-amz-security-token"].contains(h))
            .map(|h| (h, header(req, h)));
        let identity = Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            Some("session-token".into()),
            None,
            "test",
        )
        .into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-1")
            .name("securityhub")
            .time(UNIX_EPOCH + Duration::from_secs(1_764_756_000))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let uri = req.uri().to_string();
        let signable = SignableRequest::new(
            req.method().as_str(),
            uri.as_str(),
            headers,
            SignableBody::Bytes(req.body()),
        )
        .unwrap();
        sign(signable, &params).unwrap().signature().to_string()
    }

    fn signature(req: &http::Request<Vec<u8>>) -> &str {
        let auth = header(req, "authorization");
        auth.split("Signature=")
            .nth(1)
            .unwrap_or_else(|| panic!("{auth}"))
    }

    const TAKEN: &str = r#"{"FailedCount":0,"SuccessCount":2,"FailedFindings":[]}"#;
    const TAKEN_ONE: &str = r#"{"FailedCount":0,"SuccessCount":1,"FailedFindings":[]}"#;

    #[tokio::test]
    async fn an_import_is_written_addressed_and_signed_as_the_generated_client_does() {
        let findings = vec![
            finding(0, Compliance::Failed),
            finding(1, Compliance::Passed),
        ];
        let (client, theirs) = recorder(vec![(200, vec![], TAKEN.into())]);
        aws_sdk_securityhub::Client::new(&config(client))
            .batch_import_findings()
            .set_findings(Some(findings.iter().cloned().map(to_sdk).collect()))
            .send()
            .await
            .unwrap();
        let (client, ours) = recorder(vec![(200, vec![], TAKEN.into())]);
        let out = SecurityHub::new(&config(client))
            .unwrap()
            .import_findings(import_request(&findings))
            .await
            .unwrap();
        import_answer(&out, 2).unwrap();
        let (theirs, ours) = (&theirs.lock().unwrap()[0], &ours.lock().unwrap()[0]);
        let json = |r: &http::Request<Vec<u8>>| serde_json::from_slice::<Value>(r.body()).unwrap();
        assert_eq!(json(ours), json(theirs));
        assert_eq!(ours.method(), theirs.method());
        assert_eq!(ours.uri(), theirs.uri());
        assert_eq!(
            ours.uri().to_string(),
            "https://securityhub.eu-west-1.amazonaws.com/findings/import"
        );
        for h in [
            "content-type",
            "content-length",
            "x-amz-date",
            "x-amz-security-token",
        ] {
            assert_eq!(header(ours, h), header(theirs, h), "{h}");
        }
        let ((our_scope, our_headers), (their_scope, their_headers)) =
            (signed(ours), signed(theirs));
        assert_eq!(our_scope, their_scope);
        assert_eq!(
            our_scope,
            "AKIDEXAMPLE/20251203/eu-west-1/securityhub/aws4_request"
        );
        // The signature is what a verifier computes over the request as sent (the
        // verifier shown right on the generated client's request first).
        assert_eq!(signature(theirs), expected_signature(theirs));
        assert_eq!(signature(ours), expected_signature(ours));
        let mut altered = ours.clone();
        altered.body_mut().push(b' ');
        assert_ne!(signature(ours), expected_signature(&altered));
        // The same headers as the generated client's (the user agent, the call's id and
        // attempt; on Lambda the trace id, through the same interceptor).
        let names = |r: &http::Request<Vec<u8>>| {
            r.headers()
                .keys()
                .map(|k| k.as_str().to_string())
                .collect::<std::collections::BTreeSet<_>>()
        };
        assert_eq!(names(ours), names(theirs));
        for h in [
            "amz-sdk-invocation-id",
            "amz-sdk-request",
            "user-agent",
            "x-amz-user-agent",
        ] {
            assert!(!header(ours, h).is_empty(), "{h}");
        }
        assert_eq!(
            header(ours, "amz-sdk-request"),
            header(theirs, "amz-sdk-request")
        );
        assert!(
            header(ours, "x-amz-user-agent").contains(" api/securityhub/"),
            "{} / {}",
            header(ours, "x-amz-user-agent"),
            header(theirs, "x-amz-user-agent")
        );
        // Every header the generated client signs that says what the call is.
        for h in ["content-type", "host", "x-amz-date", "x-amz-security-token"] {
            assert!(their_headers.split(';').any(|x| x == h), "{their_headers}");
            assert!(our_headers.split(';').any(|x| x == h), "{our_headers}");
        }
    }

    /// A GetFindings page as the generated client reads it, with the exporter's filters.
    async fn sdk_page(
        page: &Value,
        product: &str,
        resource: &str,
        prefix: &str,
    ) -> Result<(Vec<Prior>, Option<String>), String> {
        let (client, _) = recorder(vec![(200, vec![], page.to_string())]);
        aws_sdk_securityhub::Client::new(&config(client))
            .get_findings()
            .send()
            .await
            .map(|out| {
                let priors: Vec<Prior> = out
                    .findings()
                    .iter()
                    .filter(|f| f.id().is_some_and(|id| id.starts_with(prefix)))
                    .filter(|f| f.product_arn() == Some(product))
                    .filter(|f| f.resources().iter().any(|r| r.id() == Some(resource)))
                    .filter(|f| f.record_state() != Some(&sdk::RecordState::Archived))
                    .filter_map(prior)
                    .collect();
                (
                    priors,
                    out.next_token()
                        .filter(|t| !t.is_empty())
                        .map(str::to_string),
                )
            })
            .map_err(|e| e.to_string())
    }

    /// GetFindings answers: each read here and by the generated client, with the
    /// filters the exporter applied before; both read it alike or both refuse it.
    #[tokio::test]
    async fn a_page_of_findings_is_read_as_the_generated_client_reads_it() {
        let product = "arn:aws:securityhub:eu-west-1:222222222222:product/222222222222/default";
        let resource = "arn:aws:s3:::data";
        let prefix = "crossguard/policy/arn:aws:s3:::data/";
        let held = |id: &str, res: &str, state: &str| {
            json!({
            "Id": format!("{prefix}{id}"), "ProductArn": product, "CreatedAt": "2026-12-01T00:00:00Z",
            "FirstObservedAt": "2026-12-01T00:00:00Z", "LastObservedAt": "2026-12-02T00:00:00Z",
            "Compliance": {"Status": "FAILED"}, "Workflow": {"Status": "NOTIFIED"},
            "ProductFields": {PARTY_FIELD: id, "other": "x"}, "RecordState": state,
            "Resources": [{"Type": "AwsS3Bucket", "Id": res}], "Severity": {"Label": "HIGH"},
            "SomethingNew": {"nested": [1, 2]}})
        };
        let mut odd = held("111111111113", resource, "ACTIVE");
        odd.as_object_mut().unwrap().remove("CreatedAt");
        odd["Workflow"] = json!({});
        let mut wrong_id = held("1", resource, "ACTIVE");
        wrong_id["Id"] = json!(5);
        let mut wrong_fields = held("1", resource, "ACTIVE");
        wrong_fields["ProductFields"] = json!(["a"]);
        let mut wrong_created = held("1", resource, "ACTIVE");
        wrong_created["CreatedAt"] = json!({"at": 1});
        let mut foreign = held("111111111114", resource, "ACTIVE");
        foreign["ProductArn"] = json!("arn:aws:securityhub:eu-west-1::product/aws/guardduty");
        let pages = [
            json!({"Findings": [held("111111111111", resource, "ACTIVE"), held("111111111112", "arn:aws:s3:::other", "ACTIVE"),
                                held("111111111115", resource, "ARCHIVED"), foreign], "NextToken": "t2"}),
            json!({"Findings": [held("111111111111", resource, "ACTIVE")], "NextToken": ""}),
            json!({"Findings": []}),
            json!({"Findings": [wrong_id]}),
            json!({"Findings": [wrong_fields]}),
            json!({"Findings": [wrong_created]}),
            json!({"Findings": {"Id": "x"}}),
            json!({"Findings": [held("111111111111", resource, "ACTIVE")], "NextToken": 7}),
            json!({"Findings": ["x"]}),
        ];
        let mut read = 0;
        for page in pages {
            let theirs = sdk_page(&page, product, resource, prefix).await;
            let ours = get_findings_page(&page, product, resource, prefix);
            match (theirs, ours) {
                (Ok(theirs), Ok(ours)) => {
                    assert_eq!(ours, theirs, "{page}");
                    read += ours.0.len();
                }
                (Err(_), Err(_)) => {}
                (theirs, ours) => panic!("{page}: the SDK {theirs:?}, here {ours:?}"),
            }
        }
        assert_eq!(read, 2, "the first two pages hold one finding of ours each");
        // Where this reading is stricter than the generated client's, which reads an
        // answer without its required members as empty: no `Findings` is not "nothing
        // held", and a finding of ours without `CreatedAt` (read as "" and sent back,
        // refused, before) is an answer not understood, not a finding to start afresh.
        let ours = [held("111111111111", resource, "ACTIVE")];
        for page in [
            json!({}),
            json!({"Findings": null}),
            json!({"Findings": [ours[0].clone(), odd]}),
        ] {
            let (client, _) = recorder(vec![(200, vec![], page.to_string())]);
            let theirs = aws_sdk_securityhub::Client::new(&config(client))
                .get_findings()
                .send()
                .await;
            assert!(theirs.is_ok(), "{page}: the SDK reads it");
            assert!(
                get_findings_page(&page, product, resource, prefix).is_err(),
                "{page}"
            );
        }
    }

    #[tokio::test]
    async fn a_request_asks_for_active_findings_of_the_resource_and_pages() {
        let (client, seen) = recorder(vec![(200, vec![], "{}".into())]);
        let hub = SecurityHub::new(&config(client)).unwrap();
        let body = get_findings_request("P", "R", "crossguard/x/", Some("t2"));
        hub.get_findings(body.clone()).await.unwrap();
        let req = seen.lock().unwrap()[0].clone();
        assert_eq!(
            req.uri().to_string(),
            "https://securityhub.eu-west-1.amazonaws.com/findings"
        );
        // The generated client's filters in its own types, written by it.
        let filter = |v: &str, c: sdk::StringFilterComparison| {
            sdk::StringFilter::builder().value(v).comparison(c).build()
        };
        let (client, theirs) = recorder(vec![(200, vec![], "{}".into())]);
        aws_sdk_securityhub::Client::new(&config(client))
            .get_findings()
            .filters(
                sdk::AwsSecurityFindingFilters::builder()
                    .product_arn(filter("P", sdk::StringFilterComparison::Equals))
                    .resource_id(filter("R", sdk::StringFilterComparison::Equals))
                    .id(filter("crossguard/x/", sdk::StringFilterComparison::Prefix))
                    .record_state(filter("ACTIVE", sdk::StringFilterComparison::Equals))
                    .build(),
            )
            .max_results(100)
            .next_token("t2")
            .send()
            .await
            .unwrap();
        let theirs = &theirs.lock().unwrap()[0];
        assert_eq!(
            serde_json::from_slice::<Value>(req.body()).unwrap(),
            serde_json::from_slice::<Value>(theirs.body()).unwrap()
        );
        assert_eq!(req.uri(), theirs.uri());
    }

    /// A GetFindings call answered with `answers`, and how many attempts it took.
    async fn get_findings_answered(answers: Vec<Answer>) -> (Result<Value, AwsError>, usize) {
        let (client, seen) = recorder(answers);
        let out = SecurityHub::new(&config(client))
            .unwrap()
            .get_findings(json!({}))
            .await;
        let attempts = seen.lock().unwrap().len();
        (out, attempts)
    }

    #[tokio::test]
    async fn throttling_is_retried_and_an_error_names_its_code() {
        let throttled = (
            400,
            vec![(
                "x-amzn-errortype",
                "ThrottlingException:http://internal.amazon.com/coral/",
            )],
            r#"{"message":"Rate exceeded"}"#.to_string(),
        );
        let (client, seen) = recorder(vec![
            throttled.clone(),
            (503, vec![], String::new()),
            (200, vec![], TAKEN_ONE.into()),
        ]);
        let hub = SecurityHub::new(&config(client)).unwrap();
        let out = hub
            .import_findings(import_request(&[finding(0, Compliance::Failed)]))
            .await
            .unwrap();
        import_answer(&out, 1).unwrap();
        assert_eq!(
            seen.lock().unwrap().len(),
            3,
            "throttled, then unavailable, then taken"
        );

        let (e, attempts) = get_findings_answered(vec![throttled]).await;
        let e = e.unwrap_err();
        assert_eq!(attempts, 3, "three attempts, as configured");
        assert_eq!(e.code.as_deref(), Some("ThrottlingException"), "{e}");
        assert!(e.to_string().contains("Rate exceeded"), "{e}");

        let denied = (403, vec![], r#"{"__type":"com.amazonaws.securityhub#AccessDeniedException","Message":"not allowed"}"#.to_string());
        let (e, attempts) = get_findings_answered(vec![denied]).await;
        let e = e.unwrap_err();
        assert_eq!(attempts, 1, "a refusal is not retried");
        assert_eq!(e.code.as_deref(), Some("AccessDeniedException"), "{e}");
        assert!(e.to_string().contains("not allowed"), "{e}");

        for (status, body, attempts) in [(200, "[1]", 1), (200, "not json", 1), (500, "", 3)] {
            let (e, took) = get_findings_answered(vec![(status, vec![], body.to_string())]).await;
            assert!(e.is_err(), "{status} {body}: {e:?}");
            assert_eq!(took, attempts, "{status} {body}");
        }

        // The generated clients' reading of an error's code: `code` before `__type`, the
        // namespace cut at the first `#`, `errorMessage` as the message.
        let both = (
            400,
            vec![],
            r#"{"code":"ThrottlingException","__type":"Other","errorMessage":"slow down"}"#
                .to_string(),
        );
        let (e, attempts) = get_findings_answered(vec![both]).await;
        let e = e.unwrap_err();
        assert_eq!(attempts, 3, "throttling, retried");
        assert_eq!(e.code.as_deref(), Some("ThrottlingException"), "{e}");
        assert!(e.to_string().contains("slow down"), "{e}");
        assert_eq!(sanitize_code("a#b#X:http://x"), "b#X");
    }

    /// An HTTPS client whose first call fails to connect and whose others answer `body`.
    #[derive(Debug, Clone)]
    struct Flaky(Arc<Mutex<usize>>, &'static str);

    impl aws_smithy_runtime_api::client::http::HttpConnector for Flaky {
        fn call(
            &self,
            _: HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            use aws_smithy_runtime_api::client::result::ConnectorError;
            let n = {
                let mut n = self.0.lock().unwrap();
                *n += 1;
                *n
            };
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(if n == 1 {
                Err(ConnectorError::io("connection reset".into()))
            } else {
                Ok(HttpResponse::new(
                    200.try_into().unwrap(),
                    SdkBody::from(self.1),
                ))
            })
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpClient for Flaky {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
        }
    }

    #[tokio::test]
    async fn a_connection_fault_is_retried_and_a_skewed_clock_corrected() {
        let calls = Arc::new(Mutex::new(0));
        let client = aws_smithy_runtime_api::client::http::SharedHttpClient::new(Flaky(
            Arc::clone(&calls),
            TAKEN_ONE,
        ));
        let out = SecurityHub::new(&config(client))
            .unwrap()
            .import_findings(import_request(&[finding(0, Compliance::Failed)]))
            .await
            .unwrap();
        import_answer(&out, 1).unwrap();
        assert_eq!(*calls.lock().unwrap(), 2, "reset, then taken");

        // Security Hub refuses a signature 20 minutes off its clock and says its time.
        let skewed = (
            403,
            vec![("date", "Wed, 03 Dec 2025 10:20:00 GMT")],
            r#"{"message":"Signature expired","__type":"InvalidSignatureException"}"#.to_string(),
        );
        let (client, seen) = recorder(vec![skewed, (200, vec![], TAKEN_ONE.into())]);
        SecurityHub::new(&config(client))
            .unwrap()
            .import_findings(import_request(&[finding(0, Compliance::Failed)]))
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        assert_eq!(
            seen.len(),
            2,
            "refused, then signed again with the service's time"
        );
        assert_eq!(header(&seen[0], "x-amz-date"), "20251203T100000Z");
        assert_ne!(header(&seen[1], "x-amz-date"), "20251203T100000Z");
    }

    #[tokio::test]
    async fn a_listing_that_does_not_end_is_an_error() {
        let product = "P";
        let page = |token: &str| {
            (
                200,
                vec![],
                json!({"Findings": [], "NextToken": token}).to_string(),
            )
        };
        let hub = |answers| {
            let (client, seen) = recorder(answers);
            let sdk = config(client);
            let hub = crate::AwsHub {
                s3: aws_sdk_s3::Client::new(&sdk),
                bucket: "evidence".into(),
                hub: SecurityHub::new(&sdk).unwrap(),
            };
            (hub, seen)
        };
        use crate::Hub;
        // A, B, A, …: handed back again, not followed for ever.
        let (h, seen) = hub(vec![page("A"), page("B"), page("A")]);
        let e = h.priors(product, "R", "crossguard/").await.unwrap_err();
        assert!(e.to_string().contains("came back again"), "{e}");
        assert_eq!(seen.lock().unwrap().len(), 3);
        // Ever new tokens: read up to the limit.
        let answers = (0..=crate::MAX_PAGES)
            .map(|i| page(&format!("t{i}")))
            .collect();
        let (h, seen) = hub(answers);
        let e = h.priors(product, "R", "crossguard/").await.unwrap_err();
        assert!(e.to_string().contains("pages of findings"), "{e}");
        assert_eq!(seen.lock().unwrap().len(), crate::MAX_PAGES);
        // A listing that ends: every page's findings, each page asked for by its token.
        let held = |id: &str| {
            json!({"Id": format!("crossguard/{id}"), "ProductArn": product,
            "CreatedAt": "2026-12-01T00:00:00Z", "Resources": [{"Id": "R"}]})
        };
        let (h, seen) = hub(vec![
            (
                200,
                vec![],
                json!({"Findings": [held("a")], "NextToken": "n1"}).to_string(),
            ),
            (200, vec![], json!({"Findings": [held("b")]}).to_string()),
        ]);
        let priors = h.priors(product, "R", "crossguard/").await.unwrap();
        let ids: Vec<&str> = priors.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids, ["crossguard/a", "crossguard/b"]);
        let second: Value = serde_json::from_slice(seen.lock().unwrap()[1].body()).unwrap();
        assert_eq!(second["NextToken"], "n1");
    }

    #[test]
    fn an_import_answer_with_a_refusal_or_without_its_count_is_an_error() {
        import_answer(&serde_json::from_str(TAKEN).unwrap(), 2).unwrap();
        for (answer, sent) in [
            (json!({"FailedCount": 0, "SuccessCount": 2}), 3),
            (json!({"FailedCount": 0}), 1),
            (json!({"FailedCount": 0, "SuccessCount": 0}), 100),
            (
                json!({"FailedCount": 0, "SuccessCount": 1, "FailedFindings": "oops"}),
                1,
            ),
        ] {
            assert!(import_answer(&answer, sent).is_err(), "{answer} for {sent}");
        }
        let refused = json!({"FailedCount": 1, "SuccessCount": 0, "FailedFindings": [
            {"Id": "crossguard/x", "ErrorCode": "InvalidInput", "ErrorMessage": "bad"}]});
        let e = import_answer(&refused, 1).unwrap_err().to_string();
        assert!(
            e.contains("1 finding(s) refused: crossguard/x: InvalidInput bad"),
            "{e}"
        );
        let e = import_answer(&json!({"SuccessCount": 2}), 2)
            .unwrap_err()
            .to_string();
        assert!(e.contains("an unknown number of"), "{e}");
        assert!(import_answer(
            &json!({"FailedCount": 0, "SuccessCount": 1, "FailedFindings": [{"Id": "y"}]}),
            1
        )
        .is_err());
    }

    #[tokio::test]
    async fn endpoints_are_the_generated_clients() {
        use aws_sdk_securityhub::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
        let regions = [
            "us-east-1",
            "eu-west-1",
            "ap-southeast-3",
            "il-central-1",
            "mx-central-1",
            "ca-west-1",
            "cn-north-1",
            "cn-northwest-1",
            "us-gov-west-1",
            "us-gov-east-1",
        ];
        for region in regions {
            for fips in [false, true] {
                for dual in [false, true] {
                    let params = Params::builder()
                        .region(region)
                        .use_fips(fips)
                        .use_dual_stack(dual)
                        .build()
                        .unwrap();
                    let theirs = DefaultResolver::new().resolve_endpoint(&params).await;
                    let ours = endpoint(region, fips, dual);
                    match theirs {
                        Ok(e) => assert_eq!(ours.as_deref(), Ok(e.url()), "{region} fips {fips} dual {dual}"),
                        Err(e) => panic!("{region} fips {fips} dual {dual}: the SDK has none ({e}); here {ours:?}"),
                    }
                }
            }
        }
        for bad in [
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "us-isof-south-1",
            "eusc-de-east-1",
            "xx-future-9",
            "us-east",
            "cn-north-1-x",
            "",
            "eu-west-1.evil.com",
            "a/b",
            "-x",
        ] {
            assert!(endpoint(bad, false, false).is_err(), "{bad}");
        }
        // A custom endpoint is neither FIPS nor dual-stack: refused, as the SDK does.
        let (client, _) = recorder(vec![(200, vec![], "{}".into())]);
        let custom = config(client)
            .into_builder()
            .endpoint_url("http://localhost:4566")
            .use_fips(true)
            .build();
        assert!(SecurityHub::new(&custom).is_err());
    }
}
