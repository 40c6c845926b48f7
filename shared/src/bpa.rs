//! S3 Block Public Access: the guardrail that keeps a public bucket policy or ACL from
//! taking effect, on a bucket (`PutBucketPublicAccessBlock`,
//! `DeleteBucketPublicAccessBlock`) or on the whole account (`PutAccountPublicAccessBlock`,
//! `DeleteAccountPublicAccessBlock`, S3 Control, recorded as `s3.amazonaws.com`).
//!
//! The settings, read strictly; how a change is decided is in [`crate::doors`].

use serde_json::{json, Map, Value};

/// The four settings, in the order S3 documents them.
pub const SETTINGS: [(&str, &str); 4] = [
    (
        "BlockPublicAcls",
        "new public ACLs (bucket and object) are no longer refused",
    ),
    (
        "IgnorePublicAcls",
        "public ACLs already on the bucket and its objects take effect",
    ),
    (
        "BlockPublicPolicy",
        "a public bucket policy is no longer refused",
    ),
    (
        "RestrictPublicBuckets",
        "a public bucket policy already in place lets anyone in",
    ),
];

/// Block Public Access settings: which of [`SETTINGS`] are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PublicAccessBlock(pub [bool; 4]);

impl PublicAccessBlock {
    /// Every setting off: what a deleted configuration (or none) means.
    pub const OFF: PublicAccessBlock = PublicAccessBlock([false; 4]);

    /// A `PublicAccessBlockConfiguration` as the record carries it (XML turned into JSON:
    /// booleans, or `"true"`/`"false"`) or as `GetPublicAccessBlock` answers it. A setting
    /// left out is off, as S3 reads it; any other key or value is an error, never a guess.
    pub fn from_json(v: &Value) -> Result<PublicAccessBlock, String> {
        let Value::Object(m) = v else {
            return Err("PublicAccessBlockConfiguration is not an object".into());
        };
        if let Some(k) = m
            .keys()
            .find(|k| *k != "xmlns" && !SETTINGS.iter().any(|(s, _)| s == k))
        {
            return Err(format!(
                "PublicAccessBlockConfiguration carries an unknown setting {k:?}"
            ));
        }
        let mut on = [false; 4];
        for (i, (name, _)) in SETTINGS.iter().enumerate() {
            on[i] = match m.get(*name) {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => true,
                Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => false,
                Some(other) => return Err(format!("{name} is {other}, not true or false")),
            };
        }
        Ok(PublicAccessBlock(on))
    }

    /// The settings as S3's JSON names them.
    pub fn to_json(self) -> Value {
        let mut m = Map::new();
        for (i, (name, _)) in SETTINGS.iter().enumerate() {
            m.insert((*name).to_string(), json!(self.0[i]));
        }
        Value::Object(m)
    }
}

/// What a Block Public Access change left, and what is behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The settings now (the account's when the resource is `bucket/*`).
    pub settings: PublicAccessBlock,
    /// A public policy or ACL in force behind the guardrail, as the guard read it live
    /// (`None`: not read, as offline).
    pub exposed: Option<String>,
}
