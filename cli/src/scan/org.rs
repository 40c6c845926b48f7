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
use std::sync::Arc;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// One account of the organization, as ListAccounts gives it.
struct Account {
    id: String,
    status: String,
}

async fn accounts(sdk: &aws_config::SdkConfig) -> Result<Vec<Account>, AwsError> {
    let client = aws_sdk_organizations::Client::new(sdk);
    let mut out = Vec::new();
    let mut token: Option<String> = None;
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
            out.push(Account {
                id: id.to_string(),
                status: a
                    .state()
                    .map(|s| s.as_str().to_string())
                    .or_else(|| a.status().map(|s| s.as_str().to_string()))
                    .unwrap_or_else(|| "of unknown status".into()),
            });
        }
        match page.next_token().filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t.to_string()),
            None => return Ok(out),
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
    let mut scans: JoinSet<(String, Result<Result<Batch>, AwsError>)> = JoinSet::new();
    for a in all {
        if a.status != "ACTIVE" {
            batch
                .tally
                .skipped
                .push(unscanned(&a.id, &format!("the account is {}", a.status)));
            continue;
        }
        let (this, limit, sdk, member) = (
            Arc::clone(&this),
            Arc::clone(&limit),
            sdk.clone(),
            member.clone(),
        );
        let own = a.id == own;
        scans.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let config = if own {
                Ok(sdk)
            } else {
                member_config(&sdk, partition(&sdk), &a.id, &member).await
            };
            let scanned = match config {
                Ok(config) => Ok(Scan::account(this, config, a.id.clone(), true).await),
                Err(e) => Err(e),
            };
            (a.id, scanned)
        });
    }
    let kinds = this.kinds.len();
    while let Some(done) = scans.join_next().await {
        let (account, scanned) = done.context("an account's scan task failed")?;
        match scanned {
            Err(e) => batch
                .tally
                .skipped
                .push(unscanned(&account, &e.to_string())),
            Ok(one) => {
                let one = one?;
                // Every listing refused: the account was not scanned at all.
                if one.items.is_empty() && kinds > 0 && one.tally.skipped.len() == kinds {
                    let first = &one.tally.skipped[0];
                    batch.tally.skipped.push(unscanned(
                        &account,
                        &format!(
                            "every listing failed with its credentials (first, {}: {})",
                            first.source, first.reason
                        ),
                    ));
                } else {
                    batch.items.extend(one.items);
                    batch.tally.skipped.extend(one.tally.skipped);
                }
            }
        }
    }
    Ok(batch)
}
