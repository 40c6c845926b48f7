//! `crossguard restore EVIDENCE`: put back the grants a fix removed, as its evidence
//! record kept them. Shows what goes back, refuses when the live policy changed since the
//! fix (unless `--force`) or when the guard would remove the grants again (the allowlist
//! does not approve them and the mode remediates: the entries that would approve the
//! grants it puts back are printed, and no entry for a grant already in the live policy),
//! then writes the policy, reads it back, and records the restore.

use anyhow::{bail, Context as _, Result};
use crossguard_engine::restore::{Fixed, RemovedGrant, Restoration, RestoreError};
use crossguard_engine::suggest;
use crossguard_engine::{
    self as engine, Allowlist, Decision, Finding, Options, PolicyDocument, Resource, ResourceKind,
    Scope, Verdict,
};
use crossguard_guard::aws::{self, BucketPolicies, KeyPolicies, RoleTrusts};
use crossguard_guard::ports::{EvidenceStore, Live, PolicyStore};
use crossguard_guard::stores;
use serde_json::{json, Value};
use std::fmt::Write as _;
use std::io::Write;

/// An evidence record is a few hundred KB at most (two policies of ≤ 32 KB and the
/// decision); anything past this is not one.
const RECORD_LIMIT: u64 = 16 << 20;

pub struct Restore {
    pub source: String,
    pub allowlist: Allowlist,
    pub opts: Options,
    pub force: bool,
    pub dry_run: bool,
    pub evidence_bucket: Option<String>,
}

/// `s3://BUCKET/KEY` split, or `None` for a local name.
fn s3_uri(s: &str) -> Option<Result<(String, String)>> {
    let rest = s.strip_prefix("s3://")?;
    Some(match rest.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(anyhow::anyhow!(
            "{} is not s3://BUCKET/KEY",
            crate::input::excerpt(s)
        )),
    })
}

impl Restore {
    pub fn run(self, out: &mut dyn Write) -> Result<u8> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("starting the async runtime")?;
        rt.block_on(self.go(out))
    }

    async fn go(self, out: &mut dyn Write) -> Result<u8> {
        let sdk = crate::scan::sdk_config().await;
        let text = match s3_uri(&self.source) {
            Some(uri) => {
                let (bucket, key) = uri?;
                let bytes = aws::get_object(&aws::s3_client(&sdk), &bucket, &key)
                    .await
                    .with_context(|| format!("reading {}", self.source))?
                    .with_context(|| format!("{}: no such object", self.source))?;
                if bytes.len() as u64 > RECORD_LIMIT {
                    bail!("{} is larger than an evidence record can be", self.source);
                }
                String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", self.source))?
            }
            None => crate::input::read_input(&self.source, RECORD_LIMIT)?,
        };
        let fixed = Fixed::from_record(&text)?;
        // Roles, keys and secrets are found by name in the caller's account: a record of
        // another account's resource must not be put into this one's.
        let caller = crossguard_guard::own_account(&sdk)
            .await
            .context("finding the account the credentials are in")?;
        if caller != fixed.resource.account {
            bail!(
                "the record is of {} in account {}, but the credentials are account {caller}'s: run the restore with credentials in the resource's account",
                fixed.resource.spec(),
                fixed.resource.account
            );
        }
        // The resource's own region (a bucket or key elsewhere is written there).
        let sdk = match &fixed.resource.region {
            Some(r) => sdk
                .to_builder()
                .region(aws_config::Region::new(r.clone()))
                .build(),
            None => sdk,
        };
        match fixed.resource.kind {
            ResourceKind::Bucket => {
                self.with(BucketPolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Role => {
                self.with(RoleTrusts(aws::iam_client(&sdk)), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Key => {
                self.with(KeyPolicies(aws::kms_client(&sdk)), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Queue => {
                self.with(stores::QueuePolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Topic => {
                self.with(stores::TopicPolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Secret => {
                self.with(stores::SecretPolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::Repository => {
                self.with(stores::RepositoryPolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            ResourceKind::AccessPoint => {
                self.with(stores::AccessPointPolicies::new(&sdk), &fixed, &sdk, out)
                    .await
            }
            // Refused by the record's reading (edited a statement at a time).
            other => bail!(
                "{} policies cannot be restored by crossguard",
                other.as_str()
            ),
        }
    }

    /// Print what goes back, and work out the policy to put (or why not).
    fn show_and_plan(
        &self,
        fixed: &Fixed,
        live: Option<&Value>,
        out: &mut dyn Write,
    ) -> Result<Restoration> {
        let r = &fixed.resource;
        writeln!(
            out,
            "restore {} (owner {}) from the fix of event {} ({})",
            r.spec(),
            r.account,
            fixed.event_id,
            if fixed.recorded_at.is_empty() {
                "time not recorded"
            } else {
                &fixed.recorded_at
            }
        )?;
        writeln!(out, "  puts back")?;
        for g in fixed.grants() {
            writeln!(out, "    + {}", shown(g))?;
        }
        // IAM answers with account ids turned into root ARNs: compare as IAM would.
        let live_cmp = live.map(|v| canonical(v, r));
        let fixed_cmp = Fixed {
            policy_after: fixed.policy_after.as_ref().map(|v| canonical(v, r)),
            ..fixed.clone()
        };
        let restoration: Restoration = match fixed_cmp.restored(live_cmp.as_ref(), false) {
            Ok(same) => same,
            // Forced: the removed grants go into the live policy as it reads.
            Err(RestoreError::Changed(_)) if self.force => fixed.restored(live, true)?,
            Err(e) => return Err(e.into()),
        };
        writeln!(
            out,
            "  {}",
            if restoration.changed_since_fix {
                "the live policy changed since the fix (--force): the removed grants are added to it as statements of their own; every later change stays"
            } else {
                "the live policy is as the fix left it: the policy before the fix goes back whole"
            }
        )?;
        Ok(restoration)
    }

    async fn with<P: PolicyStore>(
        &self,
        store: P,
        fixed: &Fixed,
        sdk: &aws_config::SdkConfig,
        out: &mut dyn Write,
    ) -> Result<u8> {
        let r = &fixed.resource;
        let live = live_policy(&store, r).await?;
        let restoration = self.show_and_plan(fixed, live.as_ref(), out)?;
        // Would the guard take them away again?
        let doc = PolicyDocument::from_value(restoration.policy.clone())
            .context("the restored policy does not read")?;
        let decision = engine::decide(&self.allowlist, r, Some(&doc), self.opts);
        if decision.verdict == Verdict::Error {
            bail!(
                "the restored policy could not be checked: {}",
                decision.reason
            );
        }
        write!(out, "{}", turned_on(&decision, &restoration))?;
        if decision.verdict == Verdict::Violation {
            // Whatever mode the allowlist names, the deployed guard may run with MODE set
            // to remediate: approve first, then restore.
            write!(out, "{}", refusal(&decision, &restoration, self.opts)?)?;
            return Ok(1);
        }
        if self.dry_run {
            writeln!(
                out,
                "\ndry run: nothing changed. The policy that would be put:"
            )?;
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&restoration.policy)?
            )?;
            return Ok(0);
        }
        // Changed while we looked? Then what was shown is not what would be replaced.
        if live_policy(&store, r).await? != live {
            bail!(
                "the live policy of {} changed during the restore: nothing was put; run it again",
                r.spec()
            );
        }
        let text = serde_json::to_string(&restoration.policy)?;
        store
            .write(r, &text)
            .await
            .with_context(|| format!("putting the restored policy of {}", r.spec()))?;
        let back = live_policy(&store, r).await?;
        if back.as_ref().map(|v| canonical(v, r)) != Some(canonical(&restoration.policy, r)) {
            bail!(
                "the restored policy of {} was put, but it reads back different: check it by hand",
                r.spec()
            );
        }
        let record = json!({
            "schema": engine::restore::SCHEMA,
            "restored_at": now(),
            "source": self.source,
            "event_id": fixed.event_id,
            "resource": r,
            "forced": restoration.changed_since_fix,
            "policy_before_restore": live,
            "policy_restored": restoration.policy,
            "restored": fixed.grants(),
            "decision": decision,
        });
        let at = self.keep(sdk, fixed, &record).await?;
        writeln!(
            out,
            "\nrestored: {} grant(s) put back in {}; record {at}",
            fixed.grants().len(),
            r.spec()
        )?;
        Ok(0)
    }

    /// Write the restore's record: to the evidence bucket (the record's own when it came
    /// from S3), or beside a local record.
    async fn keep(
        &self,
        sdk: &aws_config::SdkConfig,
        fixed: &Fixed,
        record: &Value,
    ) -> Result<String> {
        let body = serde_json::to_vec_pretty(record)?;
        let name = format!(
            "restore-{}-{}.json",
            fixed.event_id,
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        );
        let bucket = match (&self.evidence_bucket, s3_uri(&self.source)) {
            (Some(b), _) => Some(b.clone()),
            (None, Some(Ok((b, _)))) => Some(b),
            _ => None,
        };
        match bucket {
            Some(bucket) => {
                let key = format!("evidence/restore/{name}");
                let store = aws::S3Evidence {
                    client: aws::s3_client(sdk),
                    bucket: bucket.clone(),
                };
                store
                    .create(&key, body)
                    .await
                    .with_context(|| format!("writing the restore's record to s3://{bucket}/{key} (the policy IS restored)"))?;
                Ok(format!("s3://{bucket}/{key}"))
            }
            None => {
                let dir = std::path::Path::new(&self.source)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty() && self.source != "-")
                    .unwrap_or(std::path::Path::new("."));
                let path = dir.join(name);
                std::fs::write(&path, body).with_context(|| {
                    format!(
                        "writing the restore's record to {} (the policy IS restored)",
                        path.display()
                    )
                })?;
                Ok(path.display().to_string())
            }
        }
    }
}

/// The live policy as a JSON value (`None`: no policy).
async fn live_policy<P: PolicyStore>(store: &P, r: &Resource) -> Result<Option<Value>> {
    match store
        .read(r)
        .await
        .with_context(|| format!("reading the live policy of {}", r.spec()))?
    {
        Live::Policy(text) => {
            let doc = PolicyDocument::parse(&text)
                .with_context(|| format!("the live policy of {} does not read", r.spec()))?;
            Ok(Some(doc.to_json()?))
        }
        Live::NoPolicy => Ok(None),
        Live::Gone => Err(RestoreError::Gone(r.spec().to_string()).into()),
        other => bail!("{} answered with no policy document: {other:?}", r.spec()),
    }
}

/// Why the restore is refused when the allowlist does not approve the restored policy
/// (`d`): entries are suggested for the unapproved grants this restore puts back, and
/// for those only. The other unapproved grants were already in the live policy (added
/// since the fix, or approved then by an entry gone since): the restore did not ask for
/// them, so they are listed with no entry, and stand in its way until approved on their
/// own or taken out of the live policy.
fn refusal(d: &Decision, restoration: &Restoration, opts: Options) -> Result<String> {
    let mut out = String::new();
    // Each unapproved grant with its index among the decision's findings.
    type Indexed<'d> = Vec<(usize, &'d Finding)>;
    let (back, kept): (Indexed, Indexed) = d
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| f.is_violation())
        .partition(|(_, f)| restoration.puts_back(f));
    let _ = writeln!(
        out,
        "\nNot restored: the allowlist does not approve {} grant(s) of the restored policy, so the guard would remove them again (or alert on them).",
        back.len() + kept.len()
    );
    if back.is_empty() {
        let _ = writeln!(
            out,
            "Every grant this restore puts back is approved: no entry is suggested."
        );
    } else {
        // The decision as JSON, its findings cut to the grants put back: what
        // `allowlist suggest` reads.
        let mut v = serde_json::to_value(d)?;
        let findings = v
            .get_mut("findings")
            .and_then(Value::as_array_mut)
            .context("a decision without findings")?;
        let all = std::mem::take(findings);
        *findings = back
            .iter()
            .filter_map(|(i, _)| all.get(*i).cloned())
            .collect();
        let s = suggest::suggest(&[v], opts.today)?;
        let _ = writeln!(
            out,
            "Put back by this restore and not approved ({}): add these entries to the allowlist the guard reads first (crossguard allowlist suggest prints the same from the fix's record):\n{}",
            back.len(),
            s.to_toml()
        );
    }
    if !kept.is_empty() {
        let _ = writeln!(
            out,
            "Already in the live policy, not put back by this restore — not suggested ({}): approve each on its own, or take it out of the live policy, then restore again:",
            kept.len()
        );
        for (_, f) in &kept {
            let lifted = if restoration.turned_on.contains(&f.statement) {
                " (turned on by lifting the deny-all)"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  - {}{lifted} — {}",
                judged(f),
                engine::render::escape_controls(&f.reason)
            );
        }
    }
    Ok(out)
}

/// The Allow statements added to a deny-all trust since the fix, which lifting the
/// deny-all turns on (nothing when there are none): they are not put back, but they take
/// effect, so they are said before anything is decided.
fn turned_on(d: &Decision, restoration: &Restoration) -> String {
    let mut out = String::new();
    if restoration.turned_on.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "  also turns on: lifting the fix's deny-all trust lets these statements, added to the trust since the fix, take effect (not put back by this restore)"
    );
    for &i in &restoration.turned_on {
        let mut any = false;
        for f in d.findings.iter().filter(|f| f.statement == i) {
            any = true;
            let status = if f.approved {
                format!(
                    "approved ({})",
                    engine::render::escape_controls(f.approved_by.as_deref().unwrap_or("owner"))
                )
            } else if f.warning {
                "a warning".to_string()
            } else {
                "NOT approved".to_string()
            };
            let _ = writeln!(out, "    ! {}: {status}", judged(f));
        }
        if !any {
            let principal = restoration
                .policy
                .get("Statement")
                .and_then(|s| s.get(i))
                .and_then(|s| s.get("Principal").or_else(|| s.get("NotPrincipal")))
                .map_or_else(|| "no principal".to_string(), Value::to_string);
            let _ = writeln!(out, "    ! statement {i}: {principal}");
        }
    }
    out
}

/// A finding as a person reads it: whom its statement lets in.
fn judged(f: &Finding) -> String {
    let who = match f.scope {
        Scope::Internal => "the owner".to_string(),
        Scope::Account => format!("account {}", f.account.as_deref().unwrap_or("?")),
        Scope::Org => format!("organization {}", f.org.as_deref().unwrap_or("?")),
        Scope::Public => "anyone".to_string(),
        Scope::Unresolvable => "an account that cannot be told".to_string(),
        Scope::Service => "a service".to_string(),
    };
    let statement = match &f.sid {
        Some(sid) => format!("statement {} ({sid:?})", f.statement),
        None => format!("statement {}", f.statement),
    };
    format!(
        "{} in {statement}: lets in {who}",
        engine::render::escape_controls(&f.principal)
    )
}

/// A policy as IAM gives it back: an account id in `Principal.AWS` reads as its root ARN.
fn canonical(v: &Value, r: &Resource) -> Value {
    let mut v = v.clone();
    let root = |id: &str| Value::String(format!("arn:{}:iam::{id}:root", r.partition()));
    let statements: Vec<&mut Value> = match v.get_mut("Statement") {
        Some(Value::Array(list)) => list.iter_mut().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => Vec::new(),
    };
    for s in statements {
        for key in ["Principal", "NotPrincipal"] {
            let Some(aws) = s.get_mut(key).and_then(|p| p.get_mut("AWS")) else {
                continue;
            };
            match aws {
                Value::String(id) if engine::principal::is_account_id(id) => *aws = root(id),
                Value::Array(list) => {
                    for e in list.iter_mut() {
                        if let Value::String(id) = e {
                            if engine::principal::is_account_id(id) {
                                *e = root(id);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
    v
}

fn shown(g: &RemovedGrant) -> String {
    let who = match (&g.account, &g.org) {
        (_, Some(org)) => format!("organization {org}"),
        (Some(a), _) if a == "*" => "anyone".to_string(),
        (Some(a), _) => format!("account {a}"),
        (None, None) => "an account that cannot be told".to_string(),
    };
    let statement = match &g.sid {
        Some(sid) => format!("statement {} ({sid:?})", g.statement),
        None => format!("statement {}", g.statement),
    };
    format!(
        "{} in {statement}: lets in {who} (the fix cut: {})",
        g.principal, g.cut
    )
}

fn now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        engine::Date::from_days(days),
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

#[cfg(test)]
mod tests;
