//! A local AWS estate on moto server for the guard's end-to-end tests and the demo:
//! start the emulator on a free port, create buckets, roles, keys, the alert topic with
//! an SQS queue subscribed to it and the evidence bucket, and read their state back
//! through the real AWS SDK clients.

use anyhow::{anyhow, bail, Context, Result};
use aws_config::{BehaviorVersion, Region, SdkConfig};
use crossguard_engine::PolicyDocument;
use crossguard_guard::aws::{
    s3_client, BucketPolicies, KeyPolicies, RoleTrusts, S3Evidence, SnsTopic,
};
use crossguard_guard::{Config, Guard, PolicyStore};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod kinds;
pub mod runtime_api;

/// The account moto plays: the example allowlist's owner.
pub const ACCOUNT: &str = "222222222222";
pub const REGION: &str = "eu-west-1";
pub const TOPIC: &str = "crossguard-alerts";
pub const EVIDENCE_BUCKET: &str = "crossguard-evidence";

/// A binary `make test` (or `make bench`) built before the tests ran: under
/// CARGO_TARGET_DIR (or target/), in CROSSGUARD_PROFILE's directory (default ci).
pub fn built_binary(name: &str) -> Result<PathBuf> {
    let out =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from);
    let profile = std::env::var("CROSSGUARD_PROFILE").unwrap_or_else(|_| "ci".into());
    let dir = if profile == "dev" {
        "debug".to_string()
    } else {
        profile
    };
    let path = out.join(dir).join(name);
    anyhow::ensure!(
        path.is_file(),
        "{} is not built: `make test` builds it first (cargo build --profile ci -p {name})",
        path.display()
    );
    Ok(path)
}

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// The project's Python tools (`make` installs them into `.venv`).
pub fn venv_bin(tool: &str) -> Result<PathBuf> {
    let dir = std::env::var_os("CROSSGUARD_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join(".venv"));
    let path = dir.join("bin").join(tool);
    if !path.exists() {
        bail!(
            "{} is missing: run `make test` (or `make venv`), which installs moto and cargo-lambda into .venv",
            path.display()
        );
    }
    Ok(path)
}

/// A port nobody listens on right now.
pub fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A running moto server; stopped when dropped.
pub struct Moto {
    child: Child,
    pub port: u16,
    pub endpoint: String,
}

impl Moto {
    /// Start moto server for [`ACCOUNT`] on a free port and wait until it answers.
    pub fn start() -> Result<Moto> {
        Moto::start_as(Some(ACCOUNT))
    }

    /// Start moto server where each access key acts in its own account: the default
    /// credentials in moto's 123456789012, assumed roles in the role's account.
    pub fn start_multi_account() -> Result<Moto> {
        Moto::start_as(None)
    }

    fn start_as(account: Option<&str>) -> Result<Moto> {
        let bin = venv_bin("moto_server")?;
        let logs = root().join("target").join("moto");
        std::fs::create_dir_all(&logs)?;
        // Another process may take the port between choosing and binding it: retry.
        let mut last = anyhow!("moto server did not start");
        for _ in 0..5 {
            let port = free_port()?;
            let log = std::fs::File::create(logs.join(format!("moto-{port}.log")))?;
            let mut cmd = Command::new(&bin);
            cmd.args(["-H", "127.0.0.1", "-p", &port.to_string()]);
            match account {
                Some(a) => cmd.env("MOTO_ACCOUNT_ID", a),
                None => cmd.env_remove("MOTO_ACCOUNT_ID"),
            };
            let child = cmd
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .with_context(|| format!("starting {}", bin.display()))?;
            let mut moto = Moto {
                child,
                port,
                endpoint: format!("http://127.0.0.1:{port}"),
            };
            match moto.wait_ready() {
                Ok(()) => return Ok(moto),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait()? {
                bail!("moto server exited ({status}) on port {}", self.port);
            }
            if self.http("GET", "/moto-api/", "").is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!(
            "moto server on port {} did not answer within 60 s",
            self.port
        )
    }

    fn http(&self, method: &str, path: &str, body: &str) -> Result<String> {
        moto_http(self.port, method, path, body)
    }

    /// Enforce IAM authorization on every request from now on (`false`: stop enforcing).
    pub fn enforce_iam(&self, on: bool) -> Result<()> {
        enforce_iam(self.port, on)
    }

    /// SDK configuration pointing at this server, with the given access key.
    pub async fn sdk_as(&self, key: &str, secret: &str, token: Option<&str>) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .http_client(crossguard_guard::http_client())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                key,
                secret,
                token.map(str::to_string),
                None,
                "moto",
            ))
            .load()
            .await
    }

    pub async fn sdk(&self) -> SdkConfig {
        self.sdk_as("testing", "testing", None).await
    }

    /// The environment the CLI needs to reach this server as AWS: endpoint, region and
    /// credentials, nothing of a function's.
    pub fn cli_env(&self) -> Vec<(String, String)> {
        self.function_env("")
            .into_iter()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .collect()
    }

    /// The environment a guard function needs to run against this server.
    pub fn function_env(&self, topic_arn: &str) -> Vec<(String, String)> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_REGION", REGION),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("ALERT_TOPIC_ARN", topic_arn),
            ("EVIDENCE_BUCKET", EVIDENCE_BUCKET),
            // As the template sets it: no STS call at start.
            ("ACCOUNT_ID", ACCOUNT),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([(
            "ALLOWLIST".to_string(),
            root().join("examples/allowlist.toml").display().to_string(),
        )])
        .collect()
    }
}

/// A plain HTTP/1.0 request to moto's own API (no client crate for two calls).
fn moto_http(port: u16, method: &str, path: &str, body: &str) -> Result<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    if !out.starts_with("HTTP/1.0 200") && !out.starts_with("HTTP/1.1 200") {
        bail!("moto {method} {path}: {}", out.lines().next().unwrap_or(""));
    }
    Ok(out)
}

/// Turn moto's IAM authorization on or off for the server on `port`.
pub fn enforce_iam(port: u16, on: bool) -> Result<()> {
    let count = if on { "0" } else { "inf" };
    moto_http(port, "POST", "/moto-api/reset-auth", count).map(|_| ())
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An alert as it reached the SQS queue subscribed to the topic.
#[derive(Debug, Clone)]
pub struct Received {
    pub subject: String,
    pub message: String,
    pub attributes: BTreeMap<String, String>,
}

/// The emulated account and clients on it.
pub struct Estate {
    pub sdk: SdkConfig,
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub topic_arn: String,
    pub queue_url: String,
}

impl Estate {
    /// Clients on `sdk`, the alert topic with a queue subscribed and the evidence bucket.
    pub async fn new(sdk: SdkConfig) -> Result<Estate> {
        let mut estate = Estate::bare(sdk);
        estate.alert_topic().await?;
        estate.create_bucket(EVIDENCE_BUCKET).await?;
        Ok(estate)
    }

    /// Clients on `sdk` and nothing made: another account of a multi-account server
    /// (bucket names are shared by all accounts).
    pub fn bare(sdk: SdkConfig) -> Estate {
        Estate {
            s3: s3_client(&sdk),
            iam: aws_sdk_iam::Client::new(&sdk),
            kms: aws_sdk_kms::Client::new(&sdk),
            sns: aws_sdk_sns::Client::new(&sdk),
            sqs: aws_sdk_sqs::Client::new(&sdk),
            sdk,
            topic_arn: String::new(),
            queue_url: String::new(),
        }
    }

    /// (Re)create the alert topic and subscribe the `alerts` queue to it.
    pub async fn alert_topic(&mut self) -> Result<()> {
        self.topic_arn = self
            .sns
            .create_topic()
            .name(TOPIC)
            .send()
            .await?
            .topic_arn
            .context("CreateTopic returned no ARN")?;
        self.queue_url = self
            .sqs
            .create_queue()
            .queue_name("alerts")
            .send()
            .await?
            .queue_url
            .context("CreateQueue returned no URL")?;
        let queue_arn = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.queue_url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await?
            .attributes
            .and_then(|a| {
                a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)
                    .cloned()
            })
            .context("no queue ARN")?;
        self.sns
            .subscribe()
            .topic_arn(&self.topic_arn)
            .protocol("sqs")
            .endpoint(queue_arn)
            .send()
            .await?;
        Ok(())
    }

    pub fn config(&self) -> Config {
        Config {
            allowlist: root().join("examples/allowlist.toml").display().to_string(),
            alert_topic_arn: self.topic_arn.clone(),
            evidence_bucket: EVIDENCE_BUCKET.into(),
            mode: None,
            member: None,
            account: None,
        }
    }

    async fn guard<P: PolicyStore>(
        &self,
        config: &Config,
        p: P,
    ) -> Result<Guard<P, SnsTopic, S3Evidence>> {
        Ok(crossguard_guard::connect(&self.sdk, config, p).await?)
    }

    pub async fn bucket_guard(
        &self,
        config: &Config,
    ) -> Result<Guard<BucketPolicies, SnsTopic, S3Evidence>> {
        self.guard(config, BucketPolicies::new(&self.sdk)).await
    }

    pub async fn role_guard(
        &self,
        config: &Config,
    ) -> Result<Guard<RoleTrusts, SnsTopic, S3Evidence>> {
        self.guard(config, RoleTrusts(self.iam.clone())).await
    }

    pub async fn key_guard(
        &self,
        config: &Config,
    ) -> Result<Guard<KeyPolicies, SnsTopic, S3Evidence>> {
        self.guard(config, KeyPolicies(self.kms.clone())).await
    }

    // ---- the estate ----

    pub async fn create_bucket(&self, name: &str) -> Result<()> {
        self.s3
            .create_bucket()
            .bucket(name)
            .create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(REGION))
                    .build(),
            )
            .send()
            .await
            .with_context(|| format!("CreateBucket {name}"))?;
        Ok(())
    }

    pub async fn put_bucket_policy(&self, bucket: &str, policy: &Value) -> Result<()> {
        self.s3
            .put_bucket_policy()
            .bucket(bucket)
            .policy(policy.to_string())
            .send()
            .await
            .with_context(|| format!("PutBucketPolicy {bucket}"))?;
        Ok(())
    }

    /// The bucket's policy now (`None`: it has none).
    pub async fn bucket_policy(&self, bucket: &str) -> Result<Option<Value>> {
        s3_policy(&self.s3, bucket).await
    }

    pub async fn create_role(&self, name: &str, trust: &Value) -> Result<()> {
        self.iam
            .create_role()
            .role_name(name)
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .with_context(|| format!("CreateRole {name}"))?;
        Ok(())
    }

    pub async fn update_trust(&self, name: &str, trust: &Value) -> Result<()> {
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust.to_string())
            .send()
            .await
            .with_context(|| format!("UpdateAssumeRolePolicy {name}"))?;
        Ok(())
    }

    /// The role's trust policy now, URL-decoded.
    pub async fn role_trust(&self, name: &str) -> Result<Value> {
        let out = self.iam.get_role().role_name(name).send().await?;
        let doc = out
            .role
            .and_then(|r| r.assume_role_policy_document)
            .context("GetRole returned no trust policy")?;
        parse(&doc)
    }

    pub async fn create_key(&self, policy: &Value) -> Result<String> {
        let out = self
            .kms
            .create_key()
            .policy(policy.to_string())
            .send()
            .await
            .context("CreateKey")?;
        Ok(out.key_metadata.context("no key metadata")?.key_id)
    }

    pub async fn put_key_policy(&self, key_id: &str, policy: &Value) -> Result<()> {
        self.kms
            .put_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .policy(policy.to_string())
            .send()
            .await
            .context("PutKeyPolicy")?;
        Ok(())
    }

    pub async fn key_policy(&self, key_id: &str) -> Result<Value> {
        let out = self
            .kms
            .get_key_policy()
            .key_id(key_id)
            .policy_name("default")
            .send()
            .await?;
        parse(out.policy.as_deref().unwrap_or(""))
    }

    /// Every alert on the queue, removed from it.
    pub async fn alerts(&self) -> Result<Vec<Received>> {
        let mut out = Vec::new();
        for body in drain_queue(&self.sqs, &self.queue_url).await? {
            let body: Value = serde_json::from_str(body.as_deref().unwrap_or(""))?;
            let attributes = body["MessageAttributes"]
                .as_object()
                .map(|a| {
                    a.iter()
                        .map(|(k, v)| (k.clone(), v["Value"].as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            out.push(Received {
                subject: body["Subject"].as_str().unwrap_or("").to_string(),
                message: body["Message"].as_str().unwrap_or("").to_string(),
                attributes,
            });
        }
        Ok(out)
    }

    /// The evidence record of an event, if there is one.
    pub async fn evidence(&self, event_id: &str) -> Result<Option<Value>> {
        self.evidence_at(&format!("evidence/{event_id}.json")).await
    }

    /// The evidence record under `key` (the tamper check's are `evidence/tamper/ID.json`).
    pub async fn evidence_at(&self, key: &str) -> Result<Option<Value>> {
        match self
            .s3
            .get_object()
            .bucket(EVIDENCE_BUCKET)
            .key(key)
            .send()
            .await
        {
            Ok(out) => {
                let bytes = out.body.collect().await?.to_vec();
                Ok(Some(serde_json::from_slice(&bytes)?))
            }
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }
}

/// A bucket's policy through any S3 client (`None`: it has none).
pub async fn s3_policy(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<Option<Value>> {
    match s3.get_bucket_policy().bucket(bucket).send().await {
        Ok(out) => Ok(Some(parse(out.policy.as_deref().unwrap_or(""))?)),
        Err(e)
            if aws_sdk_s3::error::ProvideErrorMetadata::code(&e) == Some("NoSuchBucketPolicy") =>
        {
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// A policy as a JSON value, URL-decoded if need be (IAM's Get APIs encode it).
pub fn parse(text: &str) -> Result<Value> {
    let doc = PolicyDocument::parse(text).map_err(|e| anyhow!("{e}: {text}"))?;
    Ok(doc.to_json()?)
}

// ---- events ----

/// A CloudTrail record from `fixtures/cloudtrail` or `examples/events`, as an EventBridge
/// event (bare records are wrapped as EventBridge wraps them).
pub fn load_event(relative: &str) -> Result<Value> {
    let path = root().join(relative);
    let text = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let v: Value = serde_json::from_str(&text)?;
    if v.get("detail").is_some() {
        return Ok(v);
    }
    let record = match v.get("Records").and_then(Value::as_array) {
        Some(r) => r.first().cloned().context("empty Records")?,
        None => v,
    };
    let source = record["eventSource"]
        .as_str()
        .and_then(|s| s.split('.').next())
        .unwrap_or("unknown");
    Ok(json!({
        "version": "0",
        "id": "eventbridge-id",
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{source}"),
        "account": record["recipientAccountId"],
        "time": record["eventTime"],
        "region": record["awsRegion"],
        "resources": [],
        "detail": record,
    }))
}

impl Estate {
    /// A bucket (made if missing) whose policy `policy` has just been put, and the PutBucketPolicy event
    /// that put it (examples/events/3-public-bucket.json, re-aimed at this estate with
    /// `event_id`, by PlatformAdmin).
    pub async fn bucket_policy_put(
        &self,
        bucket: &str,
        policy: &Value,
        event_id: &str,
    ) -> Result<Value> {
        // A bucket already there (a scenario's second change) is kept.
        if self.s3.head_bucket().bucket(bucket).send().await.is_err() {
            self.create_bucket(bucket).await?;
        }
        self.put_bucket_policy(bucket, policy).await?;
        let mut event = retarget(
            load_event("examples/events/3-public-bucket.json")?,
            event_id,
            "PlatformAdmin",
        );
        params(&mut event)["bucketName"] = Value::from(bucket);
        params(&mut event)["bucketPolicy"] = policy.clone();
        Ok(event)
    }
}

/// The body of every message on the queue, each removed from it once read.
pub async fn drain_queue(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<Vec<Option<String>>> {
    let mut bodies = Vec::new();
    loop {
        let got = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await?;
        let msgs = got.messages.unwrap_or_default();
        if msgs.is_empty() {
            return Ok(bodies);
        }
        for m in msgs {
            bodies.push(m.body);
            if let Some(h) = m.receipt_handle {
                sqs.delete_message()
                    .queue_url(url)
                    .receipt_handle(h)
                    .send()
                    .await?;
            }
        }
    }
}

/// Re-aim an event at this estate: account, region, event id and the acting principal.
pub fn retarget(mut event: Value, event_id: &str, actor_role: &str) -> Value {
    event["account"] = json!(ACCOUNT);
    event["region"] = json!(REGION);
    let d = &mut event["detail"];
    d["eventID"] = json!(event_id);
    d["recipientAccountId"] = json!(ACCOUNT);
    d["awsRegion"] = json!(REGION);
    d["userIdentity"] = json!({
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLE:someone",
        "arn": format!("arn:aws:sts::{ACCOUNT}:assumed-role/{actor_role}/someone"),
        "accountId": ACCOUNT,
        "sessionContext": {"sessionIssuer": {
            "type": "Role",
            "arn": format!("arn:aws:iam::{ACCOUNT}:role/{actor_role}"),
            "accountId": ACCOUNT,
            "userName": actor_role
        }}
    });
    if let Some(o) = d.as_object_mut() {
        // The fixture's own resources belong to its account: the tests name theirs in
        // requestParameters.
        for k in ["errorCode", "errorMessage", "resources", "responseElements"] {
            o.remove(k);
        }
    }
    event
}

/// The event's request parameters, to set the resource and the policy it carries.
pub fn params(event: &mut Value) -> &mut Value {
    &mut event["detail"]["requestParameters"]
}

/// An HTTP endpoint on a free local port that keeps the body of every POST it gets and
/// answers 200: what an SNS `http` subscriber sees.
pub struct HttpSink {
    pub url: String,
    bodies: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl HttpSink {
    pub fn start() -> Result<HttpSink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}/", listener.local_addr()?);
        let bodies = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bodies.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                if let Some(body) = read_request(&mut conn) {
                    if let Ok(mut b) = kept.lock() {
                        b.push(body);
                    }
                }
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Ok(HttpSink { url, bodies })
    }

    /// The bodies received so far.
    pub fn bodies(&self) -> Vec<String> {
        self.bodies.lock().map(|b| b.clone()).unwrap_or_default()
    }
}

/// One HTTP/1.1 request's body (by Content-Length).
fn read_request(conn: &mut TcpStream) -> Option<String> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + len {
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(String::from_utf8_lossy(&buf[head_end..]).into_owned())
}
