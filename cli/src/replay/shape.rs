//! What serde_json reads of a CloudTrail log file when `replay` reads it slowly (the fast
//! delimiter doubted the text). The fuzz crate compiles this same file as the judge of
//! the fast delimiter (`fuzz/src/lib.rs`): the judge is `replay`'s own reading.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// The top level of a document: a log file's records only delimited, not parsed.
#[derive(Deserialize)]
pub struct Top<'a> {
    #[serde(rename = "Records", borrow)]
    pub records: Option<Vec<&'a RawValue>>,
    #[serde(borrow)]
    pub schema: Option<Cow<'a, str>>,
}

/// Just enough of a record to know whether a guard handles it.
#[derive(Deserialize)]
pub struct Skim<'a> {
    #[serde(rename = "eventName", borrow)]
    pub name: Option<Cow<'a, str>>,
    #[serde(rename = "eventSource", borrow)]
    pub source: Option<Cow<'a, str>>,
}
