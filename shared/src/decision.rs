//! Grants against the allowlist: each finding approved or not, and why; the verdict; and
//! what the guard should do about it.

use crate::allowlist::{resources_cover, Allowlist, Coverage, Mode};
use crate::analysis::{self, Grant, Nature, Who};
use crate::date::Date;
use crate::event::EventSummary;
use crate::finding::{Finding, GrantedActions, Scope};
use crate::policy::{Actions, Effect, PolicyDocument, Statement};
use crate::remediation::{self, Plan, PlanError};
use crate::resource::Resource;
use crate::wildcard;
use serde::Serialize;
use std::sync::{Arc, LazyLock};

/// What a decision says of a change (SPEC §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing unapproved lets anyone in.
    Compliant,
    /// At least one grant no allowlist entry approves.
    Violation,
    /// Not a change crossguard guards (or one it only records).
    Ignored,
    /// Could not be checked: an alert says so, nothing is changed.
    Error,
}

impl Verdict {
    /// The CLI's exit status for this verdict (SPEC §5).
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Compliant | Verdict::Ignored => 0,
            Verdict::Violation => 1,
            Verdict::Error => 2,
        }
    }
}

/// What the guard does about a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Nothing (compliant, ignored, or dry run).
    None,
    /// Send an alert.
    Alert,
    /// Apply the plan, then alert.
    Remediate,
}

impl Action {
    /// As it is written in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::None => "none",
            Action::Alert => "alert",
            Action::Remediate => "remediate",
        }
    }
}

/// One decision: the verdict on a resource's policy, every finding, and what to do.
#[derive(Debug, Clone, Serialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// The resource decided; `None` when the event names none readable.
    pub resource: Option<Resource>,
    /// Every grant, approved or not.
    pub findings: Vec<Finding>,
    /// What the guard does.
    pub action: Action,
    /// The mode that applied; `None` for ignored and failed decisions.
    pub mode: Option<Mode>,
    /// The plan that removes the unapproved grants, or why there is none.
    pub remediation: Option<Plan>,
    /// Why: for `ignored` and `error` verdicts, and a one-line summary otherwise.
    pub reason: String,
    /// The event decided, when it came from one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<EventSummary>,
    /// The guard's own part a call touched ([`crate::tamper`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tamper: Option<Tampered>,
    /// The alert's severity when the findings alone do not tell it (a lowered guardrail
    /// with nothing public behind it yet: `high`; a tampered guard: `critical`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
}

/// What a watched call touched, as the decision and the alert name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Tampered {
    /// `rule`, `function`, `role`, `alert topic`, `trail`, `event bus`, `evidence bucket`.
    pub part: &'static str,
    /// Its name (or ARN) as the call gave it.
    pub name: String,
    /// What the call did to it.
    pub did: &'static str,
}

/// What a decision depends on besides the policy and the allowlist.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// The day pairing expiry is judged against.
    pub today: Date,
    /// Overrides the allowlist's modes (the Lambda's `MODE`, the CLI's `--mode`).
    pub mode: Option<Mode>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            today: Date::today(),
            mode: None,
        }
    }
}

impl Decision {
    /// An `ignored` decision, with why.
    pub fn ignored(resource: Option<Resource>, reason: impl Into<String>) -> Decision {
        Decision::bare(Verdict::Ignored, resource, reason)
    }

    /// An `error` decision ("could not be checked"), with why.
    pub fn error(resource: Option<Resource>, reason: impl Into<String>) -> Decision {
        Decision::bare(Verdict::Error, resource, reason)
    }

    pub(crate) fn bare(
        verdict: Verdict,
        resource: Option<Resource>,
        reason: impl Into<String>,
    ) -> Decision {
        Decision {
            verdict,
            resource,
            findings: Vec::new(),
            action: Action::None,
            mode: None,
            remediation: None,
            reason: reason.into(),
            event: None,
            severity: None,
            tamper: None,
        }
    }

    /// The findings that make it a violation.
    pub fn violations(&self) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(|f| f.is_violation())
    }
}

/// Decide a resource's policy (`None`: the resource has no policy).
pub fn decide(
    allowlist: &Allowlist,
    resource: &Resource,
    policy: Option<&PolicyDocument>,
    opts: Options,
) -> Decision {
    let Some(doc) = policy else {
        return Decision {
            reason: format!("{} has no policy: nothing is shared", resource.spec()),
            ..Decision::bare(Verdict::Compliant, Some(resource.clone()), "")
        };
    };
    let (limit, what) = resource.kind.policy_limit();
    if let Some(size) = doc.over_limit(limit) {
        let err = crate::policy::PolicyError::OverLimit { size, limit, what };
        return Decision::error(Some(resource.clone()), err.to_string());
    }
    decide_unbounded(allowlist, resource, doc, opts)
}

/// [`decide`] on a document the kind's policy size limit does not bound: statements
/// standing for another door's grants (an ACL's, bounded by its own grant count).
pub(crate) fn decide_unbounded(
    allowlist: &Allowlist,
    resource: &Resource,
    doc: &PolicyDocument,
    opts: Options,
) -> Decision {
    let findings = evaluate(allowlist, resource, doc, opts.today);
    if findings.len() > analysis::MAX_GRANTS {
        return Decision::error(
            Some(resource.clone()),
            format!(
                "the policy makes more than {} grants (principals × the accounts their conditions name): not checked one by one",
                analysis::MAX_GRANTS
            ),
        );
    }
    let mode = opts.mode.unwrap_or_else(|| allowlist.mode_for(resource));
    let n_bad = findings.iter().filter(|f| f.is_violation()).count();
    let n_warn = findings.iter().filter(|f| f.warning).count();
    if n_bad == 0 {
        let reason = match (
            findings
                .iter()
                .filter(|f| f.approved && f.scope.is_outside())
                .count(),
            n_warn,
        ) {
            (0, 0) => "no cross-account access".to_string(),
            // Joined, not formatted: a small policy's decision is a few hundred
            // nanoseconds, and `format!` was a tenth of it.
            (n, 0) => [
                itoa::Buffer::new().format(n),
                " cross-account grant(s), all approved",
            ]
            .concat(),
            (n, w) => [
                itoa::Buffer::new().format(n),
                " approved cross-account grant(s), ",
                itoa::Buffer::new().format(w),
                " warning(s)",
            ]
            .concat(),
        };
        return Decision {
            findings,
            mode: Some(mode),
            reason,
            ..Decision::bare(Verdict::Compliant, Some(resource.clone()), "")
        };
    }
    let checked = remediation::plan(doc, resource, &findings).and_then(|plan| {
        verify(allowlist, resource, doc, &findings, &plan, opts.today).map(|()| plan)
    });
    let (plan, action) = match checked {
        Ok(plan) => (
            plan,
            match mode {
                Mode::Alert => Action::Alert,
                Mode::Remediate => Action::Remediate,
                Mode::DryRun => Action::None,
            },
        ),
        // No safe plan: the violation is still reported, never fixed by a guess.
        Err(why) => (
            Plan::refused(&why),
            if mode == Mode::DryRun {
                Action::None
            } else {
                Action::Alert
            },
        ),
    };
    Decision {
        verdict: Verdict::Violation,
        resource: Some(resource.clone()),
        reason: [
            itoa::Buffer::new().format(n_bad),
            " unapproved grant(s) in ",
            resource.spec(),
        ]
        .concat(),
        findings,
        action,
        mode: Some(mode),
        remediation: Some(plan),
        event: None,
        severity: None,
        tamper: None,
    }
}

/// Findings for every grant of a policy.
pub fn evaluate(
    allowlist: &Allowlist,
    resource: &Resource,
    doc: &PolicyDocument,
    today: Date,
) -> Vec<Finding> {
    let mut memo = Memo::default();
    let statements = &doc.statements;
    analysis::grants_of(statements, statements.iter(), resource, |g| {
        judge(allowlist, resource, g, today, &mut memo)
    })
}

/// A plan is only offered if, applied, it leaves no unapproved grant and every approved
/// grant and warning still stands. A plan that fails this is refused and the violation
/// is alerted instead: the guard never removes approved access.
///
/// A statement's grants depend only on itself and the policy's `Deny`s (their data
/// perimeters). While the plan leaves every `Deny` as it was and writes none, the
/// statements it kept unchanged grant exactly what they granted before, judged the same:
/// only the statements it wrote are read again. Otherwise the whole policy it leaves is.
fn verify(
    allowlist: &Allowlist,
    resource: &Resource,
    doc: &PolicyDocument,
    before: &[Finding],
    plan: &Plan,
    today: Date,
) -> Result<(), PlanError> {
    let Some(w) = plan.written() else {
        return Ok(());
    };
    let untouched = doc.statements.iter().filter(|s| w.untouched(s.index));
    let after_policy = untouched.clone().chain(&w.statements);
    let denies_kept = doc
        .statements
        .iter()
        .all(|s| s.effect != Effect::Deny || w.untouched(s.index))
        && w.statements.iter().all(|s| s.effect != Effect::Deny);
    // Grants of what the plan wrote; of everything it leaves when a `Deny` changed.
    let read_again: Box<dyn Iterator<Item = &Statement>> = if denies_kept {
        Box::new(w.statements.iter())
    } else {
        Box::new(after_policy.clone())
    };
    let mut memo = Memo::default();
    let after: Vec<Finding> = analysis::grants_of(after_policy, read_again, resource, |g| {
        judge(allowlist, resource, g, today, &mut memo)
    });
    if let Some(f) = after.iter().find(|f| f.is_violation()) {
        return Err(PlanError::StillLetsIn {
            principal: f.principal.clone(),
            reason: f.reason.to_string(),
        });
    }
    // Before findings of the statements kept unchanged stand as they were.
    let standing = |f: &&Finding| denies_kept && w.untouched(f.statement);
    let same = |a: &Finding, b: &Finding| {
        !b.is_violation()
            && a.principal == b.principal
            && a.grant.who == b.grant.who
            && a.actions == b.actions
    };
    for kept in before.iter().filter(|f| !f.is_violation()) {
        if standing(&kept) {
            continue;
        }
        let still = after.iter().any(|f| same(kept, f))
            || before.iter().filter(standing).any(|f| same(kept, f));
        if !still && kept.scope.is_outside() {
            return Err(PlanError::RemovesApproved(kept.principal.clone()));
        }
    }
    Ok(())
}

/// What the allowlist says of one grant, before it becomes a [`Finding`]. Its texts are
/// shared: one approval judges many grants alike.
#[derive(Clone)]
struct Approval {
    approved: bool,
    by: Option<Arc<str>>,
    ticket: Option<Arc<str>>,
    warning: bool,
    reason: Arc<str>,
}

impl Approval {
    /// Approved by the named owner or entry.
    fn granted(
        by: impl Into<Arc<str>>,
        ticket: Option<Arc<str>>,
        reason: impl Into<Arc<str>>,
    ) -> Approval {
        Approval {
            approved: true,
            by: Some(by.into()),
            ticket,
            warning: false,
            reason: reason.into(),
        }
    }

    /// Not approved: a violation.
    fn denied(reason: impl Into<Arc<str>>) -> Approval {
        Approval {
            approved: false,
            by: None,
            ticket: None,
            warning: false,
            reason: reason.into(),
        }
    }

    /// Reported, not a violation.
    fn warning(reason: impl Into<Arc<str>>) -> Approval {
        Approval {
            warning: true,
            ..Approval::denied(reason)
        }
    }
}

/// Approvals already worked out in one policy. What the allowlist says of a grant to an
/// account depends on the account, the statement's actions, whether it requires
/// `sts:ExternalId` and the organisations it is limited to; of a grant to a whole
/// organisation, on the organisation and the actions (the resource and the day are the
/// same throughout). The principals of one party granted the same actions are judged
/// once: the pairings' resource globs, the action coverage, the reason's text.
struct Memo {
    /// At most [`Memo::ROOM`], searched in order: a policy has few such combinations, and
    /// one with hundreds (a statement naming hundreds of accounts) is judged without.
    seen: Vec<(MemoKey, Approval)>,
    /// Each entry's [`MemoKey::tag`], in the same order: a search reads these words, not
    /// the entries (a policy of many accounts passes every entry on each new one).
    tags: [u64; Memo::ROOM],
    /// The last one found: a statement's principals are mostly of one account.
    last: usize,
    /// An approval was worked out before. The first is not remembered: most policies
    /// make one grant, and remembering it cost more than judging it (a second alike is
    /// judged again, then remembered).
    judged: bool,
}

struct MemoKey {
    /// [`MemoKey::tag`] of `party`, compared first: most entries a search passes are other
    /// parties.
    tag: u64,
    /// What `party` is.
    kind: Party,
    party: String,
    /// Compared by address first, then by content; held, since an address is unique only
    /// while it is held.
    actions: Arc<Actions>,
    external_id: bool,
    orgs: Arc<[String]>,
}

/// Whom a remembered approval is of.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Party {
    /// One account, by every entry that may approve it.
    Account,
    /// A whole organisation (`party` is its id).
    Org,
    /// Any account no pairing names, by the organisations its grant is limited to alone
    /// (`party` is empty).
    Orgs,
}

impl MemoKey {
    /// The party's length and its first and last eight bytes, in one word.
    fn tag(party: &str) -> u64 {
        let b = party.as_bytes();
        let head = b.first_chunk::<8>().map_or(0, |c| u64::from_le_bytes(*c));
        let tail = b.last_chunk::<8>().map_or(0, |c| u64::from_le_bytes(*c));
        head ^ tail.rotate_left(29) ^ b.len() as u64
    }

    #[inline]
    fn matches(&self, tag: u64, kind: Party, party: &str, g: &Grant) -> bool {
        // Actions by content: statements of a large policy mostly list the same few.
        self.tag == tag
            && self.kind == kind
            && self.party == party
            && self.external_id == g.external_id
            && (Arc::ptr_eq(&self.actions, &g.actions) || self.actions == g.actions)
            && (Arc::ptr_eq(&self.orgs, &g.orgs) || self.orgs == g.orgs)
    }
}

impl Default for Memo {
    fn default() -> Memo {
        Memo {
            seen: Vec::new(),
            tags: [0; Memo::ROOM],
            last: 0,
            judged: false,
        }
    }
}

impl Memo {
    const ROOM: usize = 64;

    fn approve_account(
        &mut self,
        al: &Allowlist,
        res: &Resource,
        g: &Grant,
        account: &str,
        today: Date,
    ) -> Approval {
        let judged = || approve_account(al, res, g, account, today);
        if !al.pairings.iter().any(|p| p.trusted == account) {
            // An account no entry names is refused at once: nothing worth remembering.
            if g.orgs.is_empty() {
                return judged();
            }
            // Only the organisations it is limited to can approve it, and what they say
            // is the same for every such account: remembered once, not per account.
            let v = self.remembered(Party::Orgs, "", g, || {
                approve_orgs(al, res, g, &g.orgs, today).unwrap_or_else(Approval::denied)
            });
            return if v.approved {
                v
            } else {
                not_approved(account, &[&*v.reason])
            };
        }
        self.remembered(Party::Account, account, g, judged)
    }

    fn approve_org(
        &mut self,
        al: &Allowlist,
        res: &Resource,
        g: &Grant,
        org: &str,
        today: Date,
    ) -> Approval {
        self.remembered(Party::Org, org, g, || {
            approve_orgs(al, res, g, &[org], today).unwrap_or_else(|why| {
                Approval::denied(format!(
                    "access for every account of organization {org}: {why}"
                ))
            })
        })
    }

    /// The approval remembered for this party and grant, or `judged` (remembered while
    /// there is room).
    fn remembered(
        &mut self,
        kind: Party,
        party: &str,
        g: &Grant,
        judged: impl FnOnce() -> Approval,
    ) -> Approval {
        let tag = MemoKey::tag(party);
        let hit = match self.seen.get(self.last) {
            Some((k, _)) if k.matches(tag, kind, party, g) => Some(self.last),
            _ => self.tags[..self.seen.len()]
                .iter()
                .enumerate()
                .filter(|&(_, &t)| t == tag)
                .map(|(i, _)| i)
                .find(|&i| self.seen[i].0.matches(tag, kind, party, g)),
        };
        if let Some(i) = hit {
            self.last = i;
            return self.seen[i].1.clone();
        }
        let v = judged();
        if !std::mem::replace(&mut self.judged, true) {
            return v;
        }
        if self.seen.len() < Memo::ROOM {
            self.last = self.seen.len();
            self.tags[self.seen.len()] = tag;
            self.seen.push((
                MemoKey {
                    tag,
                    kind,
                    party: party.to_string(),
                    actions: g.actions.clone(),
                    external_id: g.external_id,
                    orgs: g.orgs.clone(),
                },
                v.clone(),
            ));
        }
        v
    }
}

/// The pieces joined, straight into the shared text a finding holds: through one
/// buffer kept for the thread, not a `String` made and dropped per reason.
fn shared_text(parts: &[&str]) -> Arc<str> {
    thread_local! {
        static BUFFER: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    BUFFER.with_borrow_mut(|b| {
        b.clear();
        parts.iter().for_each(|p| b.push_str(p));
        Arc::from(b.as_str())
    })
}

/// Who approves the owner's own access, and why, as findings name them: made once.
static OWNER: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("owner"));
static OWNERS_OWN: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from("the owner's own account"));

fn judge(al: &Allowlist, res: &Resource, mut g: Grant, today: Date, memo: &mut Memo) -> Finding {
    let (account, org, scope) = match (&g.who, &g.nature) {
        (_, Nature::Warning(_)) => (None, None, Scope::Service),
        (_, Nature::Internal(_)) => (Some(res.account.clone()), None, Scope::Internal),
        (Who::Public, _) => (Some("*".to_string()), None, Scope::Public),
        (Who::Account(a), _) if *a == res.account => (Some(a.clone()), None, Scope::Internal),
        (Who::Account(a), _) => (Some(a.clone()), None, Scope::Account),
        (Who::Org(o), _) => (None, Some(o.clone()), Scope::Org),
        // Analysis resolves services and identity providers to whom they act for; were
        // one left, it could not be told apart: unresolvable, never approved.
        (Who::Unresolvable(_) | Who::Service(_) | Who::Federated { .. }, _) => {
            (None, None, Scope::Unresolvable)
        }
    };
    let v = match (&g.nature, &g.who) {
        (Nature::Internal(why), _) => Approval::granted(OWNER.clone(), None, why.as_str()),
        (Nature::Forbidden(why), _) => Approval::denied(why.as_str()),
        (Nature::Warning(why), _) => Approval::warning(why.as_str()),
        (Nature::Plain, Who::Account(a)) if *a == res.account => {
            Approval::granted(OWNER.clone(), None, OWNERS_OWN.clone())
        }
        (Nature::Plain, Who::Account(a)) => memo.approve_account(al, res, &g, a, today),
        (Nature::Plain, Who::Org(o)) => memo.approve_org(al, res, &g, o, today),
        (Nature::Plain, Who::Public) => approve_public(al, res, &g, today),
        (Nature::Plain, Who::Unresolvable(why)) => Approval::denied(format!(
            "unresolvable principal ({why}): it can never be approved; remove it"
        )),
        (Nature::Plain, Who::Service(what) | Who::Federated { provider: what, .. }) => {
            Approval::denied(format!(
                "unresolvable principal ({what} acting for an unknown account): it can never be approved; remove it"
            ))
        }
    };
    let mut reason = v.reason;
    if matches!(*g.actions, Actions::AllExcept(_)) && !v.approved {
        reason = [
            &*reason,
            "; NotAction in an Allow grants nearly every action",
        ]
        .concat()
        .into();
    }
    Finding {
        statement: g.statement,
        // Moved, not cloned: the finding is what reads them from here on.
        sid: g.sid.take(),
        principal: std::mem::take(&mut g.principal),
        account,
        org,
        scope,
        actions: GrantedActions(g.actions.clone()),
        approved: v.approved,
        approved_by: v.by,
        ticket: v.ticket,
        warning: v.warning,
        reason,
        untrusted_conditions: g.untrusted_conditions.clone(),
        requires_external_id: res.kind.spec().external_id.then_some(g.external_id),
        grant: g,
    }
}

/// Why an allowlist entry does not apply to a grant; each reads after "… does not apply: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Miss {
    #[error("{action} is outside the approved actions [{}]", approved.join(", "))]
    ActionOutside {
        action: String,
        approved: Vec<String>,
    },
    #[error("NotAction grants nearly every action, outside [{}]", .0.join(", "))]
    NotActionOutside(Vec<String>),
    #[error("it expired on {0}")]
    Expired(Date),
    #[error("it is for owner {0}")]
    OtherOwner(String),
    #[error("its owners do not include {0}")]
    OwnersExclude(String),
    #[error("{0} is not among its resources")]
    NotAmongResources(String),
    #[error("the trust does not require sts:ExternalId, which it demands")]
    NoExternalId,
}

/// Are all granted actions inside the approved ones (IAM wildcard coverage)?
fn actions_within(granted: &Actions, approved: &Option<Vec<String>>) -> Result<(), Miss> {
    let Some(approved) = approved else {
        return Ok(());
    };
    match granted {
        Actions::Listed(list) => match list
            .iter()
            .find(|g| !approved.iter().any(|a| wildcard::covers(a, g, true)))
        {
            None => Ok(()),
            Some(g) => Err(Miss::ActionOutside {
                action: g.clone(),
                approved: approved.clone(),
            }),
        },
        Actions::AllExcept(_) if approved.iter().any(|a| a == "*") => Ok(()),
        Actions::AllExcept(_) => Err(Miss::NotActionOutside(approved.clone())),
    }
}

pub(crate) fn expired(expires: Option<Date>, today: Date) -> Result<(), Miss> {
    match expires {
        Some(d) if today >= d => Err(Miss::Expired(d)),
        _ => Ok(()),
    }
}

fn scope_check(scope: &Coverage, res: &Resource) -> Result<(), Miss> {
    if scope.owner != "*" && scope.owner != res.account {
        Err(Miss::OtherOwner(scope.owner.clone()))
    } else {
        resources_check(&scope.resources, res)
    }
}

fn resources_check(globs: &Option<Vec<String>>, res: &Resource) -> Result<(), Miss> {
    if resources_cover(globs, res) {
        Ok(())
    } else {
        Err(Miss::NotAmongResources(res.spec().to_string()))
    }
}

fn approve_account(
    al: &Allowlist,
    res: &Resource,
    g: &Grant,
    account: &str,
    today: Date,
) -> Approval {
    let mut misses = Vec::new();
    for p in al.pairings.iter().filter(|p| p.trusted == account) {
        let check = scope_check(&p.scope, res)
            .and_then(|_| expired(p.expires, today))
            .and_then(|_| actions_within(&g.actions, &p.actions))
            .and_then(|_| {
                if p.require_external_id && res.kind.spec().external_id && !g.external_id {
                    Err(Miss::NoExternalId)
                } else {
                    Ok(())
                }
            });
        let name = &p.naming.name;
        match check {
            Ok(()) => {
                let reason = shared_text(&[
                    name,
                    " approves ",
                    account,
                    " → ",
                    &res.account,
                    " for ",
                    res.spec(),
                ]);
                return Approval::granted(name.clone(), p.naming.ticket.clone(), reason);
            }
            Err(why) => misses.push(format!("{name} does not apply: {why}")),
        }
    }
    if !g.orgs.is_empty() {
        match approve_orgs(al, res, g, &g.orgs, today) {
            Ok(v) => return v,
            Err(why) => misses.push(why),
        }
    }
    if misses.is_empty() {
        Approval::denied(shared_text(&[
            "no [[pairing]] approves account ",
            account,
            " for ",
            res.spec(),
            " (owner ",
            &res.account,
            ")",
        ]))
    } else {
        not_approved(account, &misses)
    }
}

/// An account refused, with why each entry that might have approved it does not: the
/// same words whether the organisations' answer was remembered or worked out here.
fn not_approved(account: &str, misses: &[impl AsRef<str>]) -> Approval {
    let why: Vec<&str> = misses.iter().map(AsRef::as_ref).collect();
    Approval::denied(format!(
        "account {account} is not approved: {}",
        why.join("; ")
    ))
}

/// Every organisation the grant is limited to must be approved by an `[[org]]` entry.
fn approve_orgs<S: std::borrow::Borrow<str> + std::fmt::Display>(
    al: &Allowlist,
    res: &Resource,
    g: &Grant,
    orgs: &[S],
    today: Date,
) -> Result<Approval, String> {
    let mut by = Vec::new();
    let mut ticket: Option<&Arc<str>> = None;
    for o in orgs {
        let mut miss = None;
        let hit = al.orgs.iter().filter(|e| e.id == o.borrow()).find(|e| {
            let owner_ok = e.owners.iter().any(|w| w == "*" || *w == res.account);
            let check = if owner_ok {
                Ok(())
            } else {
                Err(Miss::OwnersExclude(res.account.clone()))
            }
            .and_then(|_| resources_check(&e.resources, res))
            .and_then(|_| expired(e.expires, today))
            .and_then(|_| actions_within(&g.actions, &e.actions));
            match check {
                Ok(()) => true,
                Err(why) => {
                    miss = Some(format!("{} does not apply: {why}", e.naming.name));
                    false
                }
            }
        });
        match hit {
            Some(e) => {
                by.push(&e.naming.name);
                ticket = ticket.or(e.naming.ticket.as_ref());
            }
            None => {
                return Err(
                    miss.unwrap_or_else(|| format!("no [[org]] entry approves organization {o}"))
                )
            }
        }
    }
    // One entry (the usual case) shares its name; several are joined.
    let name: Arc<str> = match by.as_slice() {
        [one] => Arc::clone(one),
        _ => by
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<&str>>()
            .join(", ")
            .into(),
    };
    Ok(Approval::granted(
        name.clone(),
        ticket.cloned(),
        format!(
            "{name} approves principals of organization {}",
            orgs.join(" or ")
        ),
    ))
}

fn approve_public(al: &Allowlist, res: &Resource, g: &Grant, today: Date) -> Approval {
    let mut misses = Vec::new();
    for p in &al.public {
        let name = &p.naming.name;
        match scope_check(&p.scope, res)
            .and_then(|_| expired(p.expires, today))
            .and_then(|_| actions_within(&g.actions, &p.actions))
        {
            Ok(()) => {
                return Approval::granted(
                    name.clone(),
                    p.naming.ticket.clone(),
                    format!("{name} approves public access to {}", res.spec()),
                )
            }
            Err(why) if p.scope.covers(res) => misses.push(format!("{name} does not apply: {why}")),
            Err(_) => {}
        }
    }
    if misses.is_empty() {
        Approval::denied(format!(
            "public access: anyone on the internet; no [[public]] entry approves {}",
            res.spec()
        ))
    } else {
        Approval::denied(format!(
            "public access: anyone on the internet; {}",
            misses.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests;
