//! `scan --org`: every active account of the organization (Organizations ListAccounts,
//! every page), each scanned through its member role — the caller's own account with the
//! caller's credentials — several accounts at a time. An account that could not be
//! scanned (its role refused, every listing failed, not active) is named with why, and
//! the scan exits 2: an unscanned account never reads as one with nothing shared.

use super::{Org, Scan};
use crate::output::Batch;
use anyhow::{Context as _, Result};
use crossguard_engine::report::Skipped;
use crossguard_guard::accounts::{member_config, MemberAccess};
use crossguard_guard::aws::aws_error;
use crossguard_guard::ports::AwsError;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// One account of the organization, as ListAccounts gives it.
struct Account {
    id: String,
    state: String,
}

/// Every account, each once, in id order.
async fn accounts(sdk: &aws_config::SdkConfig) -> Result<Vec<Account>, AwsError> {
    let client = aws_sdk_organizations::Client::new(sdk);
    let mut out = std::collections::BTreeMap::new();
    let mut token: Option<String> = None;
    let mut seen_tokens = std::collections::HashSet::new();
    loop {
        let page = client
            .list_accounts()
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error("ListAccounts", &e))?;
        for a in page.accounts() {
            // An entry without an id cannot be scanned or named: refused, not skipped.
            let id = a
                .id()
                .filter(|id| crossguard_engine::principal::is_account_id(id))
                .ok_or_else(|| {
                    AwsError::local(
                        "ListAccounts",
                        format!("an account without a valid id: {a:?}"),
                    )
                })?;
            // `State` (the current field) first; `Status` (retired) for older answers.
            let state = a
                .state()
                .map(|s| s.as_str().to_string())
                .or_else(|| a.status().map(|s| s.as_str().to_string()))
                .unwrap_or_else(|| "of unknown state".into());
            out.insert(id.to_string(), state);
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) if !seen_tokens.insert(t.to_string()) => {
                return Err(AwsError::local(
                    "ListAccounts",
                    "the same page token twice: the listing would never end",
                ))
            }
            Some(t) => token = Some(t.to_string()),
            None => {
                return Ok(out
                    .into_iter()
                    .map(|(id, state)| Account { id, state })
                    .collect())
            }
        }
    }
}

fn unscanned(account: &str, why: &str) -> Skipped {
    Skipped {
        source: format!("scan: account {account}"),
        reason: format!("not scanned: {why}"),
    }
}

/// The partition of the configured region.
fn partition(sdk: &aws_config::SdkConfig) -> &'static str {
    sdk.region().map_or("aws", |r| {
        crossguard_engine::principal::partition_of_region(r.as_ref())
    })
}

/// Whether an account in `state` is scanned; if not, why (and whether that is a gap).
fn scanned_in(state: &str) -> Result<(), (String, bool)> {
    match state {
        // An account closing still works until it is closed: what it shares is live.
        "ACTIVE" | "PENDING_CLOSURE" => Ok(()),
        // Nothing in a closed account can be reached; AWS lists it for 90 days.
        "CLOSED" => Err(("the account is closed: nothing in it can be reached".into(), false)),
        "SUSPENDED" => Err((
            "the account is suspended: its resources are kept but cannot be read; scan it when it is reinstated".into(),
            true,
        )),
        "PENDING_ACTIVATION" => Err((
            "the account is not active yet: scan again when it is".into(),
            true,
        )),
        other => Err((format!("the account is {other}"), true)),
    }
}

/// An account not scanned: named in the skipped inputs (exit 2) and as an error row, so
/// that JSON, CSV and OCSF readers see it too.
fn gap(batch: &mut Batch, account: &str, why: &str) -> Result<()> {
    batch.tally.skipped.push(unscanned(account, why));
    batch.items.push(super::item(&super::of_account(
        account,
        format!("account {account} could not be checked: not scanned: {why}"),
    ))?);
    Ok(())
}

/// One account's batch into the whole: an account whose every listing was refused was
/// not scanned at all, and is a gap.
fn merge(batch: &mut Batch, account: &str, one: Batch, kinds: usize) -> Result<()> {
    if one.items.is_empty() && kinds > 0 && one.tally.skipped.len() == kinds {
        let failed: Vec<String> = one
            .tally
            .skipped
            .iter()
            .map(|s| format!("{}: {}", s.source, s.reason))
            .collect();
        let why = format!(
            "every listing failed with its credentials (the role needs the read permissions the README lists for scan): {}",
            failed.join("; ")
        );
        return gap(batch, account, &why);
    }
    batch.items.extend(one.items);
    batch.tally.skipped.extend(one.tally.skipped);
    Ok(())
}

/// One account's scan, when a permit is free: through its role unless it is the
/// caller's own account.
async fn scan_one(
    this: Arc<Scan>,
    limit: Arc<Semaphore>,
    sdk: aws_config::SdkConfig,
    member: MemberAccess,
    id: String,
    own: bool,
) -> Result<Result<Batch>, AwsError> {
    let _permit = limit.acquire_owned().await;
    let config = if own {
        sdk
    } else {
        member_config(&sdk, partition(&sdk), &id, &member).await?
    };
    Ok(Scan::account(this, config, id, true).await)
}

/// Every active account's batch, merged; the accounts not scanned, named.
pub(super) async fn scan(
    this: Arc<Scan>,
    org: &Org,
    sdk: aws_config::SdkConfig,
    own: String,
) -> Result<Batch> {
    let all = accounts(&sdk).await.map_err(anyhow::Error::new).context(
        "listing the organization's accounts (run --org with credentials of the management account or a delegated administrator)",
    )?;
    // An organization always lists its management account: an empty list is a fault
    // (an emulator, a filtered proxy), never "nothing to scan".
    anyhow::ensure!(
        !all.is_empty(),
        "Organizations ListAccounts listed no account: is an organization in use, with these credentials in it?"
    );
    let member = MemberAccess {
        role_name: org.role.clone(),
        external_id: org.external_id.clone(),
    };
    let limit = Arc::new(Semaphore::new(org.at_once));
    let mut batch = Batch::default();
    let mut scans: JoinSet<Result<Result<Batch>, AwsError>> = JoinSet::new();
    let mut of_task = HashMap::new();
    for a in all {
        match scanned_in(&a.state) {
            Ok(()) => {}
            Err((why, true)) => {
                gap(&mut batch, &a.id, &why)?;
                continue;
            }
            Err((why, false)) => {
                crate::input::warn(&format!("crossguard: account {}: {why}", a.id));
                continue;
            }
        }
        let task = scans.spawn(scan_one(
            Arc::clone(&this),
            Arc::clone(&limit),
            sdk.clone(),
            member.clone(),
            a.id.clone(),
            a.id == own,
        ));
        of_task.insert(task.id(), a.id);
    }
    let kinds = this.kinds.len();
    let hint = format!(
        "check that role {} exists there, trusts these credentials and demands the ExternalId given (--external-id or CROSSGUARD_EXTERNAL_ID)",
        org.role
    );
    while let Some(done) = scans.join_next_with_id().await {
        let (task, scanned) = match done {
            Ok((task, scanned)) => (task, scanned),
            Err(e) => {
                let account = of_task
                    .get(&e.id())
                    .cloned()
                    .unwrap_or_else(|| "(unknown)".into());
                gap(
                    &mut batch,
                    &account,
                    &format!("its scan stopped ({e}); please report it"),
                )?;
                continue;
            }
        };
        let account = of_task
            .get(&task)
            .cloned()
            .unwrap_or_else(|| "(unknown)".into());
        match scanned {
            Err(e) => gap(&mut batch, &account, &format!("{e} ({hint})"))?,
            Ok(one) => {
                let one = one.with_context(|| format!("account {account}"))?;
                merge(&mut batch, &account, one, kinds)?;
            }
        }
    }
    // In a stable order, whichever account finished first.
    batch
        .tally
        .skipped
        .sort_by(|a, b| (&a.source, &a.reason).cmp(&(&b.source, &b.reason)));
    Ok(batch)
}
