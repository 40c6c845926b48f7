//! `crossguard replay s3://BUCKET/PREFIX`: an archive read where it is. The listing
//! goes down the archive's folders one level at a time while the account or time
//! filters can pass over a folder unlisted (`AWSLogs/[o-ORG/]ACCT/CloudTrail/REGION/
//! YYYY/MM/DD/`), then lists what is left flat; several folders at once. The objects
//! are then read as local files are: each worker one object at a time.

use super::{is_log_file, Filters, Input, DIGESTS, MAX_FILE};
use crossguard_engine::report::Skipped;
use crossguard_guard::aws::aws_error;
use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc;
use tokio::task::JoinSet;

/// Folders listed at once.
pub const LISTINGS_AT_ONCE: usize = 16;

/// `s3://BUCKET[/PREFIX]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

impl Location {
    /// `None`: not an `s3://` address; `Some(Err)`: one that cannot be read.
    pub fn parse(s: &str) -> Option<Result<Location, String>> {
        let rest = s.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        // Bucket names are 3-63 lower-case letters, digits, dots and hyphens.
        let named = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        Some(if named {
            Ok(Location {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            })
        } else {
            Err(format!(
                "{s:?}: not an S3 address (s3://BUCKET or s3://BUCKET/PREFIX)"
            ))
        })
    }
}

/// One object to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bucket: String,
    pub key: String,
    /// As listed.
    pub size: Option<i64>,
}

impl Object {
    pub fn uri(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }
}

/// One page of a listing.
#[derive(Debug, Default)]
pub struct Page {
    /// Keys and sizes.
    pub objects: Vec<(String, Option<i64>)>,
    /// The folders below (a delimited listing's common prefixes).
    pub folders: Vec<String>,
    /// Where the next page starts; `None` on the last.
    pub next: Option<String>,
}

/// ListObjectsV2, one page: the one call the listing makes (tested without AWS).
pub trait Lister: Send + Sync + 'static {
    fn page(
        &self,
        bucket: &str,
        prefix: &str,
        delimited: bool,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page, String>> + Send;
}

/// The S3 client as a [`Lister`].
pub struct S3Lister {
    pub client: aws_sdk_s3::Client,
    /// Keys per page (S3's 1,000 when unset).
    pub page_size: Option<i32>,
}

impl Lister for S3Lister {
    fn page(
        &self,
        bucket: &str,
        prefix: &str,
        delimited: bool,
        token: Option<String>,
    ) -> impl Future<Output = Result<Page, String>> + Send {
        // Keys come URL-encoded: one S3 cannot put in XML would otherwise make the whole
        // folder unlistable.
        let call = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .encoding_type(aws_sdk_s3::types::EncodingType::Url)
            .set_delimiter(delimited.then(|| "/".to_string()))
            .set_continuation_token(token)
            .set_max_keys(self.page_size);
        async move {
            let out = call.send().await.map_err(|e| {
                let e = aws_error("ListObjectsV2", &e);
                let hint = match e.code.as_deref() {
                    Some("PermanentRedirect" | "AuthorizationHeaderMalformed") => {
                        " (the bucket is in another region: set AWS_REGION to it)"
                    }
                    Some("AccessDenied") => " (the credentials need s3:ListBucket on it)",
                    _ => "",
                };
                format!("{e}{hint}")
            })?;
            // A token is followed whatever the truncation flag says (reading on is never
            // a gap); more promised without a token is not "the end".
            let next = match (out.is_truncated(), out.next_continuation_token()) {
                (_, Some(t)) => Some(t.to_string()),
                (Some(true), None) => {
                    return Err("ListObjectsV2 said the listing goes on but gave no token".into())
                }
                _ => None,
            };
            // Decoded only when S3 says it encoded (a store that ignores the request
            // sends keys as they are, `+` and `%` included).
            let encoded = out.encoding_type() == Some(&aws_sdk_s3::types::EncodingType::Url);
            let key_of = |s: &str| {
                if encoded {
                    url_decoded(s)
                } else {
                    Ok(s.to_string())
                }
            };
            let mut objects = Vec::new();
            for o in out.contents() {
                let Some(key) = o.key() else {
                    return Err("ListObjectsV2 listed an object without a key".into());
                };
                objects.push((key_of(key)?, o.size()));
            }
            let mut folders = Vec::new();
            for p in out.common_prefixes() {
                let Some(p) = p.prefix() else {
                    return Err("ListObjectsV2 listed a folder without a prefix".into());
                };
                folders.push(key_of(p)?);
            }
            Ok(Page {
                objects,
                folders,
                next,
            })
        }
    }
}

/// A key as S3 wrote it with `EncodingType=url` (form encoding: `+` is a space).
fn url_decoded(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|e| format!("ListObjectsV2 listed a key that is not UTF-8 once decoded ({e})"))
}

/// What a listing found.
#[derive(Debug, Default)]
pub struct Listed {
    /// In key order.
    pub inputs: Vec<Input>,
    pub skipped: Vec<Skipped>,
    /// Objects left unread by their key.
    pub passed_over: u64,
    /// Folders never listed: everything below them is outside the filters.
    pub folders_passed_over: u64,
}

/// One folder's listing, all its pages: its objects and the folders below it.
async fn folder<L: Lister>(
    lister: Arc<L>,
    bucket: String,
    prefix: String,
    delimited: bool,
) -> Result<Page, String> {
    let mut all = Page::default();
    let mut token = None;
    let mut seen = std::collections::HashSet::new();
    loop {
        let page = lister
            .page(&bucket, &prefix, delimited, token.clone())
            .await?;
        all.objects.extend(page.objects);
        all.folders.extend(page.folders);
        match page.next {
            // A page seen before would make an endless listing.
            Some(next) if !seen.insert(next.clone()) => {
                return Err("ListObjectsV2 gave the same page token twice".into())
            }
            Some(next) => token = Some(next),
            None => return Ok(all),
        }
    }
}

/// The folders of a key or prefix (its last part, a name or a partial name, left out).
fn folders_of(key: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = key.split('/').collect();
    parts.pop();
    parts.retain(|p| !p.is_empty());
    parts
}

/// Every object under `at` that replay reads, folders outside the filters passed
/// over unlisted. A folder that cannot be listed is named in `skipped`, the rest read.
pub async fn list<L: Lister>(lister: Arc<L>, at: &Location, filters: &Filters) -> Listed {
    let mut listed = Listed::default();
    let mut queue = VecDeque::from([at.prefix.clone()]);
    let mut running = JoinSet::new();
    let mut objects = Vec::new();
    loop {
        while running.len() < LISTINGS_AT_ONCE {
            let Some(prefix) = queue.pop_front() else {
                break;
            };
            let delimited = filters.may_pass_over_below(&folders_of(&prefix));
            let task = folder(
                Arc::clone(&lister),
                at.bucket.clone(),
                prefix.clone(),
                delimited,
            );
            running.spawn(async move { (prefix, task.await) });
        }
        let Some(done) = running.join_next().await else {
            break;
        };
        let (prefix, page) = match done {
            Ok(done) => done,
            // A listing task cannot panic short of a bug in the SDK; were one to, its
            // folder is unknown here, so the whole listing is reported incomplete.
            Err(e) => {
                listed.skipped.push(Skipped {
                    source: format!("s3://{}/{}", at.bucket, at.prefix),
                    reason: format!("a listing stopped ({e}): part of it was not read"),
                });
                continue;
            }
        };
        match page {
            Ok(page) => {
                objects.extend(page.objects);
                for f in page.folders {
                    let folders = folders_of(&f);
                    if folders.contains(&DIGESTS) {
                        continue;
                    }
                    if filters.outside(&folders) {
                        listed.folders_passed_over += 1;
                    } else {
                        queue.push_back(f);
                    }
                }
            }
            Err(reason) => listed.skipped.push(Skipped {
                source: format!("s3://{}/{}", at.bucket, prefix),
                reason: format!("cannot list: {reason}"),
            }),
        }
    }
    listed.skipped.sort_by(|a, b| a.source.cmp(&b.source));
    chosen(&mut listed, at, filters, objects);
    listed
}

/// The listed objects replay reads, in key order; an address with nothing to read named.
fn chosen(
    listed: &mut Listed,
    at: &Location,
    filters: &Filters,
    mut objects: Vec<(String, Option<i64>)>,
) {
    objects.sort();
    objects.dedup();
    let found = objects.len();
    let mut digests = 0;
    for (key, size) in objects {
        let folders = folders_of(&key);
        let in_digests = folders.contains(&DIGESTS);
        digests += usize::from(in_digests);
        // Named exactly, an object is read whatever its name, as a file is (not the
        // empty marker the console leaves for a folder).
        let exact = key == at.prefix && !key.ends_with('/');
        if !exact && !is_log_file(&key, in_digests) {
            continue;
        }
        if !exact && filters.outside(&folders) {
            listed.passed_over += 1;
            continue;
        }
        listed.inputs.push(Input::S3(Object {
            bucket: at.bucket.clone(),
            key,
            size,
        }));
    }
    // An address that reads nothing, and passed nothing over, is a mistake to name
    // (a typo in a prefix), not a quiet empty part of the run.
    let quiet = listed.inputs.is_empty()
        && listed.skipped.is_empty()
        && listed.passed_over == 0
        && listed.folders_passed_over == 0;
    if quiet {
        listed.skipped.push(Skipped {
            source: format!("s3://{}/{}", at.bucket, at.prefix),
            reason: if found == 0 {
                "no object under this prefix".into()
            } else if digests == found {
                "only CloudTrail digest files under this prefix (not events)".into()
            } else {
                format!("none of the {found} object(s) under this prefix is a log file (.json, .json.gz)")
            },
        });
    }
}

/// Reads objects for the workers (plain threads) through the async client.
pub struct Reader {
    pub runtime: tokio::runtime::Handle,
    pub client: aws_sdk_s3::Client,
}

impl Reader {
    /// An object's bytes as stored (gzip left as it is); the reason when it cannot be
    /// read.
    pub fn bytes(&self, o: &Object) -> Result<Vec<u8>, String> {
        let too_large = |n: i64| {
            format!(
                "larger than {} MiB ({n} bytes; the limit): not read",
                MAX_FILE >> 20
            )
        };
        let over = |n: i64| u64::try_from(n).map_or(true, |n| n > MAX_FILE);
        if let Some(n) = o.size.filter(|n| over(*n)) {
            return Err(too_large(n));
        }
        self.runtime.block_on(async {
            let out = self
                .client
                .get_object()
                .bucket(&o.bucket)
                .key(&o.key)
                .send()
                .await
                .map_err(|e| {
                    let e = aws_error("GetObject", &e);
                    let hint = match e.code.as_deref() {
                        Some("AccessDenied") => {
                            " (the credentials need s3:GetObject on it, and kms:Decrypt when the trail is encrypted with a KMS key)"
                        }
                        Some("InvalidObjectState") => {
                            " (archived in a Glacier storage class: restore it, then replay)"
                        }
                        Some("NoSuchKey") => " (deleted since it was listed)",
                        _ => "",
                    };
                    format!("cannot read: {e}{hint}")
                })?;
            // Replaced since it was listed: the size is checked again before a byte is
            // held, and the body is read no further than the limit whatever it claims.
            if let Some(n) = out.content_length().filter(|n| over(*n)) {
                return Err(too_large(n));
            }
            // Room for the size S3 gives (checked above), so the buffer does not grow
            // by doubling; no byte past the limit is held, whatever the size said.
            let room = out.content_length().or(o.size).unwrap_or(0);
            let mut body = out.body;
            let mut raw = Vec::with_capacity(usize::try_from(room).unwrap_or(0));
            while let Some(chunk) = body
                .try_next()
                .await
                .map_err(|e| format!("cannot read: GetObject's body: {e}"))?
            {
                if (raw.len() + chunk.len()) as u64 > MAX_FILE {
                    return Err(format!(
                        "larger than {} MiB (the limit), as stored: not read",
                        MAX_FILE >> 20
                    ));
                }
                raw.extend_from_slice(&chunk);
            }
            Ok(raw)
        })
    }
}

#[cfg(test)]
mod tests;
