//! The policy model: statements as the analysis reads them, and the errors of reading
//! them. A leaf: both parsers ([`super::fast`] and the `Value` path) build these.

use crate::principal::PrincipalType;
use std::sync::Arc;

/// Refuse anything larger before parsing: no real policy comes close (the largest AWS
/// allows is a 32 KB key policy), and the guard must not be made to chew on megabytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    #[error("policy is {0} bytes; refusing input over {MAX_INPUT_BYTES} bytes")]
    InputTooLarge(usize),
    #[error("policy is not valid JSON: {0}")]
    Json(String),
    #[error("policy is not URL-encoded JSON: {0}")]
    UrlEncoding(String),
    #[error("policy must be a JSON object, found {0}")]
    NotObject(&'static str),
    #[error("policy has no Statement")]
    NoStatement,
    #[error("policy has a {0}")]
    Duplicate(String),
    #[error("statement {index}: {reason}")]
    Statement { index: usize, reason: String },
    #[error("policy is {size} bytes without white space, over the {limit}-byte limit AWS sets for a {what}")]
    OverLimit {
        size: usize,
        limit: usize,
        what: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    pub kind: PrincipalType,
    pub value: String,
}

impl PrincipalEntry {
    /// How a person reads it in a report: `*`, an ARN, a service name.
    pub fn display(&self) -> String {
        match self.kind {
            PrincipalType::Star => "*".into(),
            PrincipalType::Aws => self.value.clone(),
            PrincipalType::Service => format!("Service:{}", self.value),
            PrincipalType::Federated => format!("Federated:{}", self.value),
            PrincipalType::CanonicalUser => format!("CanonicalUser:{}", self.value),
            PrincipalType::Other => format!("?:{}", self.value),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `Principal`: these entries.
    Listed(Vec<PrincipalEntry>),
    /// `NotPrincipal`: everyone except these.
    AllExcept(Vec<PrincipalEntry>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    Listed(Vec<String>),
    /// `NotAction`: every action but these.
    AllExcept(Vec<String>),
}

/// One condition: `{"StringEquals": {"aws:PrincipalAccount": ["1", "2"]}}` gives
/// operator `StringEquals`, key `aws:PrincipalAccount`, values `["1", "2"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: String,
    pub key: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub index: usize,
    pub sid: Option<String>,
    pub effect: Effect,
    pub principals: Principals,
    /// Shared with every grant and finding of the statement: cloned by pointer.
    pub actions: Arc<Actions>,
    /// `Resource` values; empty when absent (role trust policies have none).
    pub resources: Vec<String>,
    pub not_resource: bool,
    pub conditions: Vec<Condition>,
}
