//! `crossguard scan`: the live account's resource policies of every kind (buckets, role
//! trusts, keys, queues, topics, functions, secrets, repositories, event buses) and the
//! doors beside them (bucket ACLs, KMS grants), every page of each listing, decided
//! against the allowlist — "what is shared right now".
//! Reads only: each kind's listing and policy read (role trusts come with ListRoles), and
//! STS GetCallerIdentity for the account.

use crate::output::{Batch, Item};
use anyhow::{Context as _, Result};
use crossguard_engine::report::{Origin, Skipped};
use crossguard_engine::{self as engine, Allowlist, Decision, Options, Resource, ResourceKind};
use crossguard_guard::aws::{self, BucketPolicies, KeyPolicies};
use crossguard_guard::ports::{AwsError, Live, PolicyStore};
use crossguard_guard::stores;
use std::collections::HashMap;

mod org;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// The name standing for the account's own settings in a bucket listing (`bucket/*`).
const EVERY_BUCKET: &str = "*";

/// Policy reads in flight at once: fast on a large estate, gentle on API rate limits
/// (the SDK's standard retry handles throttling).
const CONCURRENT_READS: usize = 8;

pub struct Scan {
    pub allowlist: Allowlist,
    pub opts: Options,
    /// Items per page of ListRoles and ListKeys (the services' defaults when unset).
    pub page_size: Option<i32>,
    pub kinds: Vec<ResourceKind>,
    /// Every account of the organization instead of the caller's.
    pub org: Option<Org>,
}

/// How `scan --org` reaches the member accounts.
pub struct Org {
    /// The role assumed in each member account.
    pub role: String,
    /// The ExternalId it demands.
    pub external_id: Option<String>,
    /// Accounts scanned at once.
    pub at_once: usize,
}

fn decided(
    allowlist: &Allowlist,
    opts: Options,
    r: &Resource,
    live: Result<Live, AwsError>,
) -> Decision {
    match live {
        Ok(Live::Gone) => Decision::ignored(Some(r.clone()), "deleted while the scan ran"),
        Ok(live) => engine::decide_carried(allowlist, r.clone(), live.into_carried().0, opts),
        Err(e) => Decision::error(Some(r.clone()), e.to_string()),
    }
}

/// A decision as a report row. A decision that cannot be encoded fails the scan: a row
/// is never made from a guess.
fn item(d: &Decision) -> Result<Item> {
    Item::of_decision(d, Origin::Scan, "scan").context("encoding a decision")
}

/// An error row of no one resource, naming the account it is about.
fn of_account(account: &str, why: String) -> Decision {
    Decision {
        event: Some(engine::EventSummary {
            account: Some(account.to_string()),
            ..engine::EventSummary::default()
        }),
        ..Decision::error(None, why)
    }
}

fn listing_failed(what: &str, e: &AwsError) -> Skipped {
    Skipped {
        source: format!("scan: {what}"),
        reason: e.to_string(),
    }
}

impl Scan {
    /// Every row, before anything is printed: a scan that fails prints no report (not
    /// even a CSV header that would read as "nothing shared").
    pub fn run(self) -> Result<Batch> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        rt.block_on(self.collect())
    }

    async fn collect(self) -> Result<Batch> {
        let sdk = sdk_config().await;
        let account = crossguard_guard::own_account(&sdk)
            .await
            .context("finding the account to scan (check the AWS credentials)")?;
        let this = Arc::new(self);
        let mut batch = match &this.org {
            None => Scan::account(Arc::clone(&this), sdk, account, false).await?,
            Some(org) => org::scan(Arc::clone(&this), org, sdk, account).await?,
        };
        // Stable output: by account, kind, then name, then what was read (a bucket's
        // policy row and its ACL row; a key's policy and its grants), whichever read
        // ended first.
        batch.items.sort_by(|a, b| {
            let key = |i: &Item| {
                (
                    i.change.account.clone(),
                    i.change.kind.clone(),
                    i.change.resource.clone(),
                    i.change.reason.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        batch.tally.scanned = batch.items.len() as u64;
        Ok(batch)
    }

    /// One account's resources, read with `sdk`. In an organization scan (`named`) a
    /// listing's failure names the account.
    async fn account(
        this: Arc<Scan>,
        sdk: aws_config::SdkConfig,
        account: String,
        named: bool,
    ) -> Result<Batch> {
        let region = sdk.region().map(std::string::ToString::to_string);
        let limit = Arc::new(Semaphore::new(CONCURRENT_READS));
        let mut reads: JoinSet<Decision> = JoinSet::new();
        let mut batch = Batch::default();

        // Each resource's read as a task; the store decides which client reads it.
        let spawn = |reads: &mut JoinSet<Decision>, store: Arc<dyn Reader>, r: Resource| {
            let (this, limit) = (this.clone(), limit.clone());
            reads.spawn(async move {
                let _permit = limit.acquire_owned().await;
                let live = store.read_live(&r).await;
                decided(&this.allowlist, this.opts, &r, live)
            });
        };
        for kind in ResourceKind::ALL
            .into_iter()
            .filter(|k| this.kinds.contains(k))
        {
            let found = match list(kind, &sdk, region.as_ref(), this.page_size, &account).await {
                Ok(found) => found,
                Err((operation, e)) => {
                    let what = if named {
                        format!("account {account} {operation}")
                    } else {
                        operation.to_string()
                    };
                    batch.tally.skipped.push(listing_failed(&what, &e));
                    continue;
                }
            };
            for f in found {
                let resource = if f.name == EVERY_BUCKET {
                    Resource::every_bucket(&account, f.region.as_deref())
                } else {
                    Resource::new(kind, &f.name, &account, f.region.as_deref())
                };
                match (resource, f.policy) {
                    (Ok(r), Policy::Read(store)) => spawn(&mut reads, store, r),
                    (Ok(r), Policy::Listed(live)) => {
                        batch
                            .items
                            .push(item(&decided(&this.allowlist, this.opts, &r, Ok(live)))?);
                    }
                    (Ok(r), Policy::Unlisted(why)) => {
                        batch.items.push(item(&Decision::error(Some(r), why))?);
                    }
                    (Ok(r), Policy::Grant(g)) => {
                        let carried = engine::event::kms_grant_listed(&g, &r);
                        let d = engine::decide_carried(&this.allowlist, r, carried, this.opts);
                        batch.items.push(item(&d)?);
                    }
                    (Err(e), _) => batch
                        .items
                        .push(item(&of_account(&account, e.to_string()))?),
                }
            }
        }
        while let Some(done) = reads.join_next().await {
            match done {
                Ok(d) => batch.items.push(item(&d)?),
                Err(e) => batch.items.push(item(&of_account(
                    &account,
                    format!("read task failed: {e}"),
                ))?),
            }
        }
        Ok(batch)
    }
}

/// [`PolicyStore::read`] behind a trait object, so buckets and keys share the read loop.
trait Reader: Send + Sync {
    fn read_live<'a>(
        &'a self,
        r: &'a Resource,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Live, AwsError>> + Send + 'a>>;
}

impl<P: PolicyStore> Reader for P {
    fn read_live<'a>(
        &'a self,
        r: &'a Resource,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Live, AwsError>> + Send + 'a>>
    {
        Box::pin(self.read(r))
    }
}

/// A bucket's ACL, the door beside its policy: its own row.
struct AclOf<P>(P);

impl<P: PolicyStore> Reader for AclOf<P> {
    fn read_live<'a>(
        &'a self,
        r: &'a Resource,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Live, AwsError>> + Send + 'a>>
    {
        Box::pin(self.0.read_acl(r))
    }
}

/// A bucket's (or, for `bucket/*`, the account's) Block Public Access: its own row.
struct GuardrailOf<P>(P);

impl<P: PolicyStore> Reader for GuardrailOf<P> {
    fn read_live<'a>(
        &'a self,
        r: &'a Resource,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<Live, AwsError>> + Send + 'a>>
    {
        Box::pin(self.0.read_public_access_block(r))
    }
}

/// A listed resource: its name, its region when the listing says, and its policy or
/// how to read it.
struct Found {
    name: String,
    region: Option<String>,
    policy: Policy,
}

enum Policy {
    /// Read it with this store.
    Read(Arc<dyn Reader>),
    /// The listing carried it.
    Listed(Live),
    /// A KMS grant on the key, as ListGrants gave it.
    Grant(serde_json::Value),
    /// What could not be listed: an error row.
    Unlisted(String),
}

/// Every resource of a kind in the account, or the listing call that failed.
async fn list(
    kind: ResourceKind,
    sdk: &aws_config::SdkConfig,
    region: Option<&String>,
    page: Option<i32>,
    account: &str,
) -> Result<Vec<Found>, (&'static str, AwsError)> {
    match kind {
        ResourceKind::Bucket => buckets_and_doors(sdk, region).await,
        // ListRoles carries each trust policy: no read per role.
        ResourceKind::Role => Ok(list_roles(sdk, page)
            .await
            .map_err(|e| ("ListRoles", e))?
            .into_iter()
            .map(|(name, trust)| Found {
                name,
                region: None,
                policy: Policy::Listed(trust.map_or(Live::NoPolicy, Live::Policy)),
            })
            .collect()),
        ResourceKind::Key => keys_and_grants(sdk, region, page).await,
        ResourceKind::Queue => {
            let store = stores::QueuePolicies::new(sdk);
            let names = store.list(page).await.map_err(|e| ("ListQueues", e))?;
            Ok(read_each(names, store, region))
        }
        ResourceKind::Topic => {
            let store = stores::TopicPolicies::new(sdk);
            let arns = store.list().await.map_err(|e| ("ListTopics", e))?;
            Ok(read_each(arns, store, region))
        }
        ResourceKind::Function => {
            let store = stores::FunctionPolicies::new(sdk);
            let names = store.list(page).await.map_err(|e| ("ListFunctions", e))?;
            Ok(read_each(names, store, region))
        }
        ResourceKind::Secret => {
            let store = stores::SecretPolicies::new(sdk);
            let names = store.list(page).await.map_err(|e| ("ListSecrets", e))?;
            Ok(read_each(names, store, region))
        }
        ResourceKind::Repository => {
            let store = stores::RepositoryPolicies::new(sdk);
            let names = store
                .list(page)
                .await
                .map_err(|e| ("DescribeRepositories", e))?;
            Ok(read_each(names, store, region))
        }
        ResourceKind::Bus => {
            let store = stores::BusPolicies::new(sdk);
            let names = store.list(page).await.map_err(|e| ("ListEventBuses", e))?;
            Ok(read_each(names, store, region))
        }
        ResourceKind::AccessPoint => {
            let store = stores::AccessPointPolicies::new(sdk);
            let names = store
                .list(account, page)
                .await
                .map_err(|e| ("ListAccessPoints", e))?;
            Ok(read_each(names, store, region))
        }
    }
}

/// Every bucket, each with three rows to read (its policy, its ACL, its Block Public
/// Access), and the account's own Block Public Access as `bucket/*`.
async fn buckets_and_doors(
    sdk: &aws_config::SdkConfig,
    region: Option<&String>,
) -> Result<Vec<Found>, (&'static str, AwsError)> {
    let buckets = list_buckets(sdk).await.map_err(|e| ("ListBuckets", e))?;
    // A bucket's policy, ACL and Block Public Access are read in the bucket's own
    // region, each a row; the account's Block Public Access is a row of its own.
    type Readers = [Arc<dyn Reader>; 3];
    let mut clients: HashMap<Option<String>, Readers> = HashMap::new();
    let mut found: Vec<Found> = buckets
        .into_iter()
        .flat_map(|(name, bucket_region)| {
            let readers = clients
                .entry(bucket_region.clone())
                .or_insert_with(|| {
                    let mut b = sdk.to_builder();
                    if let Some(r) = &bucket_region {
                        b = b.region(aws_config::Region::new(r.clone()));
                    }
                    let store = BucketPolicies::new(&b.build());
                    [
                        Arc::new(store.clone()),
                        Arc::new(AclOf(store.clone())),
                        Arc::new(GuardrailOf(store)),
                    ]
                })
                .clone();
            let region = bucket_region.or_else(|| region.cloned());
            readers.map(|store| Found {
                name: name.clone(),
                region: region.clone(),
                policy: Policy::Read(store),
            })
        })
        .collect();
    found.push(Found {
        name: EVERY_BUCKET.into(),
        region: region.cloned(),
        policy: Policy::Read(Arc::new(GuardrailOf(BucketPolicies::new(sdk)))),
    });
    Ok(found)
}

/// Every key, its policy read later, and each of its grants as its own row.
async fn keys_and_grants(
    sdk: &aws_config::SdkConfig,
    region: Option<&String>,
    page: Option<i32>,
) -> Result<Vec<Found>, (&'static str, AwsError)> {
    let names = list_keys(sdk, page).await.map_err(|e| ("ListKeys", e))?;
    let keys = KeyPolicies(aws::kms_client(sdk));
    let mut grants = Vec::new();
    for id in &names {
        // One key's grants unreadable is that key's error row, not the whole kind's.
        let listed = match keys.list_grants(id).await {
            Ok(gs) => gs.into_iter().map(Policy::Grant).collect(),
            Err(e) => vec![Policy::Unlisted(format!(
                "its grants could not be listed: {e}"
            ))],
        };
        grants.extend(listed.into_iter().map(|policy| Found {
            name: id.clone(),
            region: region.cloned(),
            policy,
        }));
    }
    let mut found = read_each(names, keys, region);
    found.extend(grants);
    Ok(found)
}

/// Listed names (or ARNs), each read with `store` in the scan's region.
fn read_each<P: PolicyStore + 'static>(
    names: Vec<String>,
    store: P,
    region: Option<&String>,
) -> Vec<Found> {
    let store: Arc<dyn Reader> = Arc::new(store);
    names
        .into_iter()
        .map(|name| Found {
            name,
            region: region.cloned(),
            policy: Policy::Read(store.clone()),
        })
        .collect()
}

/// Every bucket (name, region when S3 says), following continuation tokens. No page
/// size is asked for: S3 then answers with every bucket, and moto truncates to a page
/// size without giving the token that would fetch the rest.
async fn list_buckets(
    sdk: &aws_config::SdkConfig,
) -> Result<Vec<(String, Option<String>)>, AwsError> {
    let s3 = aws::s3_client(sdk);
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let resp = s3
            .list_buckets()
            .set_continuation_token(token.take())
            .send()
            .await
            .map_err(|e| aws::aws_error("ListBuckets", &e))?;
        out.extend(resp.buckets().iter().filter_map(|b| {
            b.name()
                .map(|n| (n.to_string(), b.bucket_region().map(str::to_string)))
        }));
        match resp.continuation_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Every role (name, trust policy as IAM returns it: URL-encoded), page by page.
async fn list_roles(
    sdk: &aws_config::SdkConfig,
    page: Option<i32>,
) -> Result<Vec<(String, Option<String>)>, AwsError> {
    let iam = aws::iam_client(sdk);
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let resp = iam
            .list_roles()
            .set_max_items(page)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| aws::aws_error("ListRoles", &e))?;
        out.extend(resp.roles().iter().map(|r| {
            (
                r.role_name().to_string(),
                r.assume_role_policy_document().map(str::to_string),
            )
        }));
        match (resp.is_truncated(), resp.marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Every key id in the region, page by page.
async fn list_keys(
    sdk: &aws_config::SdkConfig,
    page: Option<i32>,
) -> Result<Vec<String>, AwsError> {
    let kms = aws::kms_client(sdk);
    let mut out = Vec::new();
    let mut marker = None;
    loop {
        let resp = kms
            .list_keys()
            .set_limit(page)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| aws::aws_error("ListKeys", &e))?;
        out.extend(
            resp.keys()
                .iter()
                .filter_map(|k| k.key_id().map(str::to_string)),
        );
        match (resp.truncated(), resp.next_marker()) {
            (true, Some(m)) => marker = Some(m.to_string()),
            _ => return Ok(out),
        }
    }
}

/// Every credential source of a person's machine (profiles, SSO, credential_process, …),
/// through the same HTTPS client as the functions.
pub(crate) async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(crossguard_guard::http_client())
        .load()
        .await
}
