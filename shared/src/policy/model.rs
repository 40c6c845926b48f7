//! The policy model: statements as the analysis reads them, and the errors of reading
//! them. A leaf: both parsers ([`super::fast`] and the `Value` path) build these.

use crate::principal::PrincipalType;
use std::sync::Arc;

/// Refuse anything larger before parsing: no real policy comes close (the largest AWS
/// allows is a 32 KB key policy), and the guard must not be made to chew on megabytes.
pub const MAX_INPUT_BYTES: usize = 1 << 20;

/// Why a policy cannot be read: always an `error` decision, never a guess.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum PolicyError {
    /// Over [`MAX_INPUT_BYTES`].
    #[error("policy is {0} bytes; refusing input over {MAX_INPUT_BYTES} bytes")]
    InputTooLarge(usize),
    /// Not JSON, or JSON the strict reader refuses.
    #[error("policy is not valid JSON: {0}")]
    Json(String),
    /// A URL-encoded form that does not decode.
    #[error("policy is not URL-encoded JSON: {0}")]
    UrlEncoding(String),
    /// JSON of another type than an object.
    #[error("policy must be a JSON object, found {0}")]
    NotObject(&'static str),
    /// No `Statement`.
    #[error("policy has no Statement")]
    NoStatement,
    /// A key given twice: which one IAM reads cannot be told.
    #[error("policy has a {0}")]
    Duplicate(String),
    /// One statement breaks a rule.
    #[error("statement {index}: {reason}")]
    Statement {
        /// The statement's index.
        index: usize,
        /// The rule it breaks.
        reason: String,
    },
    /// A member named as an element in another case (`principal`, `STATEMENT`): which
    /// one AWS reads cannot be told, so the policy is not read at all.
    #[error("{place}has a member {name:?}, the {element} element in another case: which one AWS reads cannot be told")]
    ElementCase {
        /// `statement N: `, or empty at the top level.
        place: String,
        /// The name as written.
        name: String,
        /// The element as IAM spells it.
        element: &'static str,
    },
    /// Over the size AWS allows for this kind of policy.
    #[error("policy is {size} bytes without white space, over the {limit}-byte limit AWS sets for a {what}")]
    OverLimit {
        /// Its size without white space.
        size: usize,
        /// AWS's limit.
        limit: usize,
        /// The policy's name (`bucket policy`).
        what: &'static str,
    },
}

/// A statement's `Effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// `Allow`.
    Allow,
    /// `Deny`.
    Deny,
}

/// One principal value, with the key it was given under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrincipalEntry {
    /// The key (`AWS`, `Service`, …).
    pub kind: PrincipalType,
    /// The value as written.
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

/// A statement's `Principal` or `NotPrincipal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principals {
    /// `Principal`: these entries.
    Listed(Vec<PrincipalEntry>),
    /// `NotPrincipal`: everyone except these.
    AllExcept(Vec<PrincipalEntry>),
}

/// A statement's `Action` or `NotAction`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actions {
    /// `Action`: these actions (IAM wildcards).
    Listed(Vec<String>),
    /// `NotAction`: every action but these.
    AllExcept(Vec<String>),
}

/// One condition: `{"StringEquals": {"aws:PrincipalAccount": ["1", "2"]}}` gives
/// operator `StringEquals`, key `aws:PrincipalAccount`, values `["1", "2"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The operator, with any `ForAnyValue:`/`IfExists` part.
    pub operator: String,
    /// The condition key as written.
    pub key: String,
    /// Its values (alternatives), numbers and booleans as text.
    pub values: Vec<String>,
}

/// One statement, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// Its index in the policy.
    pub index: usize,
    /// Its `Sid`.
    pub sid: Option<String>,
    /// Its `Effect`.
    pub effect: Effect,
    /// Whom it names.
    pub principals: Principals,
    /// Shared with every grant and finding of the statement: cloned by pointer.
    pub actions: Arc<Actions>,
    /// `Resource` values; empty when absent (role trust policies have none).
    pub resources: Vec<String>,
    /// The values are `NotResource`.
    pub not_resource: bool,
    /// Its conditions, one per operator and key.
    pub conditions: Vec<Condition>,
}

/// A document's elements, as IAM spells them.
pub(crate) const DOCUMENT_ELEMENTS: &[&str] = &["Version", "Id", "Statement"];

/// A statement's elements, as IAM spells them.
pub(crate) const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// The element `name` spells in another case, if any (`None` for an element spelled as
/// IAM spells it, or a name that is no element at all).
pub(crate) fn element_in_other_case(name: &str, elements: &[&'static str]) -> Option<&'static str> {
    elements
        .iter()
        .find(|e| **e != name && e.eq_ignore_ascii_case(name))
        .copied()
}

/// The value path's refusal of an object's first member named as one of `elements` in
/// another case; `place` says where (`statement 2 `, or empty at the top level).
pub(crate) fn refuse_element_in_other_case<'a>(
    names: impl IntoIterator<Item = &'a String>,
    elements: &[&'static str],
    place: impl FnOnce() -> String,
) -> Result<(), PolicyError> {
    match names
        .into_iter()
        .find_map(|n| element_in_other_case(n, elements).map(|e| (n, e)))
    {
        Some((name, element)) => Err(PolicyError::ElementCase {
            place: place(),
            name: name.clone(),
            element,
        }),
        None => Ok(()),
    }
}
