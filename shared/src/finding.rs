//! One finding: a grant of a policy judged against the allowlist. What the decision
//! reports and what the remediation plan cuts, so both read it from here.

use crate::analysis::Grant;
use crate::policy::Actions;
use serde::Serialize;
use std::sync::Arc;

/// Whom a finding's grant reaches, relative to the resource's owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// The owner's own account (or a service acting for it in a role trust).
    Internal,
    /// One other account.
    Account,
    /// Every account of an AWS Organization.
    Org,
    /// Anyone on the internet.
    Public,
    /// Somebody whose account cannot be told: never approvable.
    Unresolvable,
    /// A service principal without a source condition: a warning, not a violation.
    Service,
}

impl Scope {
    /// As it is written in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Internal => "internal",
            Scope::Account => "account",
            Scope::Org => "org",
            Scope::Public => "public",
            Scope::Unresolvable => "unresolvable",
            Scope::Service => "service",
        }
    }

    /// Parse the JSON spelling back (reports read decisions as JSON).
    pub fn parse(s: &str) -> Option<Scope> {
        [
            Scope::Internal,
            Scope::Account,
            Scope::Org,
            Scope::Public,
            Scope::Unresolvable,
            Scope::Service,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// Outside the owner's account: what an approval is about.
    pub fn is_outside(self) -> bool {
        self != Scope::Internal
    }
}

/// One grant, judged: who it lets in, with what, and whether the allowlist approves it.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Index of the statement in the policy.
    pub statement: usize,
    /// The statement's `Sid` (shared with the statement's other findings).
    pub sid: Option<Arc<str>>,
    /// The principal as a person reads it.
    pub principal: String,
    /// 12 digits; `*` for public; `null` when unresolvable or org-wide (see `org`).
    pub account: Option<String>,
    /// The organization, for an org-wide grant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Whom it reaches, relative to the owner.
    pub scope: Scope,
    /// Serialized as `actions` (and `not_actions` for a `NotAction` grant).
    #[serde(flatten)]
    pub actions: GrantedActions,
    /// An allowlist entry (or ownership) approves it.
    pub approved: bool,
    /// Which: `owner`, `pairing #N (TICKET)`, `org #N`, `public #N`.
    pub approved_by: Option<Arc<str>>,
    /// The approving entry's ticket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<Arc<str>>,
    /// Reported, not a violation on its own.
    pub warning: bool,
    /// Why it is approved or not, naming the entries that came close (shared with the
    /// other findings the same approval judged).
    pub reason: Arc<str>,
    /// Conditions that look like restrictions but are not trusted as one (shared with
    /// the statement's other findings).
    #[serde(skip_serializing_if = "none_listed")]
    pub untrusted_conditions: Arc<[String]>,
    /// For a role trust: whether its statement requires `sts:ExternalId` (what
    /// `allowlist suggest` needs to suggest a pairing that demands it); not written for
    /// other kinds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_external_id: Option<bool>,
    /// The grant it judges (not serialized).
    #[serde(skip)]
    pub grant: Grant,
}

fn none_listed(v: &Arc<[String]>) -> bool {
    v.is_empty()
}

impl Finding {
    /// Neither approved nor a warning.
    pub fn is_violation(&self) -> bool {
        !self.approved && !self.warning
    }
}

/// The actions a grant allows, shared with its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedActions(pub Arc<Actions>);

impl GrantedActions {
    /// The listed actions; `["*"]` for `NotAction`, whose exceptions are in `except`.
    pub fn listed(&self) -> &[String] {
        match &*self.0 {
            Actions::Listed(v) => v,
            Actions::AllExcept(_) => std::slice::from_ref(&*STAR),
        }
    }

    /// For `NotAction`: every action except these.
    pub fn except(&self) -> Option<&[String]> {
        match &*self.0 {
            Actions::AllExcept(v) => Some(v),
            Actions::Listed(_) => None,
        }
    }
}

static STAR: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| "*".to_string());

impl Serialize for GrantedActions {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("actions", self.listed())?;
        if let Some(n) = self.except() {
            m.serialize_entry("not_actions", n)?;
        }
        m.end()
    }
}
