//! From a policy to its grants: for each `Allow` statement and each principal it names,
//! who gets in once conditions and data-perimeter `Deny`s have narrowed it. No allowlist
//! here; approval is the decision layer's job.

use crate::condition::{self, Dimension};
use crate::kinds::ServicePrincipals;
use crate::policy::{Actions, Effect, PolicyDocument, PrincipalEntry, Principals, Statement};
use crate::principal::{self, PrincipalType};
use crate::resource::Resource;
pub use crate::who::Who;
use crate::wildcard;
use std::cell::OnceCell;
use std::sync::Arc;

/// How a grant came to be limited to its `Who`, which tells remediation what to cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// The principal entry itself names it (or `NotPrincipal` opens to everyone).
    Principal,
    /// A wide principal (`*`, a service) narrowed by condition values: cutting those
    /// values removes this grant and leaves the others.
    Condition,
    /// Narrowed by a data-perimeter `Deny` elsewhere in the policy.
    Perimeter,
}

/// What else a grant is, beyond who it lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Nature {
    /// A cross-account or public grant, to be approved by the allowlist.
    Plain,
    /// The owner's own account, always internal; the string says why.
    Internal(String),
    /// Reported, not a violation on its own (a service principal with no source condition).
    Warning(String),
    /// A violation no allowlist entry can approve (a shared identity provider open to all).
    Forbidden(String),
}

/// One principal of one `Allow` statement, and who it lets in once narrowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Index of the statement in the policy.
    pub statement: usize,
    /// The statement's `Sid`, shared by the statement's grants.
    pub sid: Option<Arc<str>>,
    /// Index of the principal entry in the statement (`None` for `NotPrincipal`).
    pub entry: Option<usize>,
    /// The principal as a person reads it (`*`, an ARN, `Service:…`).
    pub principal: String,
    /// Which `Principal` key named it.
    pub principal_type: PrincipalType,
    /// Who gets in.
    pub who: Who,
    /// How it came to be limited to `who`.
    pub via: Via,
    /// Plain, internal, a warning, or forbidden.
    pub nature: Nature,
    /// Organisations the caller must also belong to (recorded, and approvable by `[[org]]`),
    /// shared by the grants they limit alike.
    pub orgs: Arc<[String]>,
    /// The statement's actions, shared by pointer.
    pub actions: Arc<Actions>,
    /// Whether the statement requires `sts:ExternalId`.
    pub external_id: bool,
    /// Conditions that look like restrictions but are not trusted as one, shared by the
    /// statement's grants.
    pub untrusted_conditions: Arc<[String]>,
}

/// A `Deny` that refuses everyone outside a set of accounts or organisations.
#[derive(Debug, Clone)]
struct Perimeter {
    narrowing: condition::Narrowing,
    actions: Vec<String>,
    resources: Vec<String>,
}

/// Most grants (principal entries × the accounts their conditions narrow to) one policy
/// is checked for, one by one. A policy within AWS's size limits can name thousands
/// (`"*"` repeated, each narrowed by the same long value list); each finding carries its
/// statement into the plan, the alert and the evidence, so past this the decision is an
/// `error` ("could not be checked") instead of hundreds of megabytes.
pub const MAX_GRANTS: usize = 500;

/// Grants of a whole document, for the given resource: at most [`MAX_GRANTS`] + 1 (one
/// more tells the caller the policy is over the limit), without computing the rest.
pub fn grants(doc: &PolicyDocument, resource: &Resource) -> Vec<Grant> {
    grants_of(&doc.statements, doc.statements.iter(), resource, |g| g)
}

/// Grants of the `Allow` statements in `of`, narrowed by the data perimeters of
/// `policy` (the whole policy they belong to). A statement's grants depend on itself and
/// on the policy's `Deny`s alone, which lets a plan's check read only what it wrote.
///
/// Each grant goes through `then` as it is made (the decision judges it there), so a
/// grant is not moved into a list of its own first.
pub(crate) fn grants_of<'a, T>(
    policy: impl IntoIterator<Item = &'a Statement>,
    of: impl Iterator<Item = &'a Statement>,
    resource: &Resource,
    mut then: impl FnMut(Grant) -> T,
) -> Vec<T> {
    let perimeters: Vec<Perimeter> = policy.into_iter().filter_map(perimeter).collect();
    let allows: Vec<&Statement> = of.filter(|s| s.effect == Effect::Allow).collect();
    // Room for the grants at once: a grant is large, and growing the list a step at a
    // time copied it over and over. A principal entry lets in one caller, or one per
    // value its statement's conditions list (`*` limited to accounts); a perimeter's
    // values limit, they add none.
    let room: usize = allows
        .iter()
        .map(|s| {
            let entries = match &s.principals {
                Principals::Listed(list) => list.len(),
                Principals::AllExcept(_) => 1,
            };
            let values: usize = s.conditions.iter().map(|c| c.values.len()).sum();
            entries.saturating_mul(values.max(1))
        })
        .fold(0, usize::saturating_add);
    let mut out = Vec::with_capacity(room.min(MAX_GRANTS + 1));
    let mut lets = Vec::new();
    for st in allows {
        statement_grants(st, resource, &perimeters, &mut lets, &mut out, &mut then);
        if out.len() > MAX_GRANTS {
            break;
        }
    }
    out
}

/// The empty list, made once for the process: most grants are limited to no organisation
/// and most statements have no untrusted condition.
pub(crate) static NONE: std::sync::LazyLock<Arc<[String]>> =
    std::sync::LazyLock::new(|| Arc::from([]));

/// [`NONE`], shared (for an organisation limit or untrusted conditions alike).
fn empty() -> Arc<[String]> {
    NONE.clone()
}

/// A `Deny` to every principal unless `aws:PrincipalOrgID` / `aws:PrincipalAccount`
/// (or `…OrgPaths`) matches, with no other condition that could switch it off.
fn perimeter(st: &Statement) -> Option<Perimeter> {
    if st.effect != Effect::Deny || st.not_resource {
        return None;
    }
    let Principals::Listed(entries) = &st.principals else {
        return None;
    };
    let everyone = !entries.is_empty()
        && entries
            .iter()
            .all(|e| e.value == "*" && matches!(e.kind, PrincipalType::Star | PrincipalType::Aws));
    let Actions::Listed(actions) = &*st.actions else {
        return None;
    };
    if !everyone || st.conditions.len() != 1 {
        return None;
    }
    let c = &st.conditions[0];
    let k = c.key.to_ascii_lowercase();
    if !matches!(
        k.as_str(),
        "aws:principalorgid" | "aws:principalaccount" | "aws:principalorgpaths"
    ) {
        return None;
    }
    // The negation of a narrowing operator: Deny unless the key equals one of the values.
    // In a Deny, `…IfExists` only widens it (a caller without the key is refused too), so
    // it fences as tightly as the plain form (SPEC §1).
    let (op, if_exists) = match c.operator.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (c.operator.as_str(), false),
    };
    let positive = match op {
        "StringNotEquals" => "StringEquals",
        "StringNotEqualsIgnoreCase" => "StringEqualsIgnoreCase",
        "StringNotLike" => "StringLike",
        // `ForAllValues:` holds for a caller without the key, so the Deny applies to
        // them too. `ForAnyValue:` does not: an anonymous caller, or an account outside
        // every organisation, has no aws:PrincipalOrgPaths and walks past it, unless
        // `…IfExists` makes the missing key count.
        "ForAllValues:StringNotLike" if k == "aws:principalorgpaths" => "StringLike",
        "ForAnyValue:StringNotLike" if k == "aws:principalorgpaths" && if_exists => "StringLike",
        _ => return None,
    };
    let as_allow = crate::policy::Condition {
        operator: positive.into(),
        key: c.key.clone(),
        values: c.values.clone(),
    };
    let narrowing = condition::narrowing(&as_allow).ok().flatten()?;
    Some(Perimeter {
        narrowing,
        actions: actions.clone(),
        resources: st.resources.clone(),
    })
}

/// Does the perimeter cover everything this statement allows?
fn perimeter_applies(p: &Perimeter, st: &Statement) -> bool {
    let actions_covered = match &*st.actions {
        Actions::Listed(granted) => granted
            .iter()
            .all(|g| p.actions.iter().any(|d| wildcard::covers(d, g, true))),
        Actions::AllExcept(_) => p.actions.iter().any(|d| d == "*"),
    };
    let resources_covered = if st.not_resource {
        p.resources.iter().any(|r| r == "*")
    } else if st.resources.is_empty() {
        p.resources.is_empty() || p.resources.iter().any(|r| r == "*")
    } else {
        st.resources
            .iter()
            .all(|r| p.resources.iter().any(|d| wildcard::covers(d, r, false)))
    };
    actions_covered && resources_covered
}

/// What narrows every principal of one statement alike: its own conditions, the
/// perimeters that cover it, and what is recorded beside them.
struct Narrowed<'p> {
    own: Vec<condition::Narrowing>,
    perimeters: Vec<&'p Perimeter>,
    untrusted: Arc<[String]>,
    external_id: bool,
    /// The organisations a caller must be in, for principals the perimeters restrict
    /// (`[1]`) and the others (`[0]`): the same for every principal of the statement,
    /// so worked out once, on first need.
    org_names: [OnceCell<Arc<[String]>>; 2],
}

impl<'p> Narrowed<'p> {
    fn of(st: &Statement, perimeters: &'p [Perimeter]) -> Narrowed<'p> {
        let mut untrusted = Vec::new();
        let own: Vec<condition::Narrowing> = st
            .conditions
            .iter()
            .filter_map(|c| match condition::narrowing(c) {
                Ok(n) => n,
                Err(why) => {
                    untrusted.push(why.to_string());
                    None
                }
            })
            .collect();
        for c in &st.conditions {
            if !condition::is_narrowing_key(&c.key) && !untrusted.iter().any(|u| u.contains(&c.key))
            {
                let k = &c.key;
                let multifactor = k
                    .get(..15)
                    .is_some_and(|p| p.eq_ignore_ascii_case("aws:multifactor"));
                if multifactor
                    || ["aws:SourceIp", "aws:SecureTransport", "sts:ExternalId"]
                        .iter()
                        .any(|u| k.eq_ignore_ascii_case(u))
                {
                    untrusted.push(
                        [
                            &*c.operator,
                            " on ",
                            k,
                            " does not limit which account gets in",
                        ]
                        .concat(),
                    );
                }
            }
        }
        Narrowed {
            own,
            perimeters: perimeters
                .iter()
                .filter(|p| perimeter_applies(p, st))
                .collect(),
            untrusted: if untrusted.is_empty() {
                empty()
            } else {
                untrusted.into()
            },
            external_id: condition::requires_external_id(&st.conditions),
            org_names: Default::default(),
        }
    }

    /// The organisations a principal must also be in, given the sets [`Narrowed::sets`]
    /// gave for it.
    fn org_names(&self, orgs: &[&[Who]], fenced: bool) -> Arc<[String]> {
        if orgs.is_empty() {
            return empty();
        }
        self.org_names[usize::from(fenced)]
            .get_or_init(|| org_names(orgs).into())
            .clone()
    }

    /// The account and organisation value sets that limit a principal who resolves to
    /// `reach`, and how a grant narrowed by them came to be so.
    fn sets(&self, reach: &Who) -> (Vec<&[Who]>, Vec<&[Who]>, Via, bool) {
        let (mut accounts, mut orgs) = (Vec::new(), Vec::new());
        for n in &self.own {
            match n.dimension {
                Dimension::Account => accounts.push(&n.targets[..]),
                Dimension::Org => orgs.push(&n.targets[..]),
            }
        }
        // Narrowing from the statement's own conditions can be cut by remediation; a
        // narrowing that exists only through a perimeter cannot.
        let own_narrows = !self.own.is_empty();
        // Perimeters restrict callers that are AWS principals (and the anonymous public).
        let perimeter_used =
            !self.perimeters.is_empty() && matches!(reach, Who::Public | Who::Account(_));
        if perimeter_used {
            for p in &self.perimeters {
                match p.narrowing.dimension {
                    Dimension::Account => accounts.push(&p.narrowing.targets),
                    Dimension::Org => orgs.push(&p.narrowing.targets),
                }
            }
        }
        let via = if !own_narrows && perimeter_used {
            Via::Perimeter
        } else {
            Via::Condition
        };
        (accounts, orgs, via, perimeter_used)
    }
}

/// One grant before it is tied to its statement and principal entry.
struct Letting {
    who: Who,
    via: Via,
    nature: Nature,
    orgs: Arc<[String]>,
}

fn letting(who: Who, via: Via, nature: Nature, orgs: Arc<[String]>) -> Letting {
    Letting {
        who,
        via,
        nature,
        orgs,
    }
}

fn statement_grants<T>(
    st: &Statement,
    resource: &Resource,
    perimeters: &[Perimeter],
    lets: &mut Vec<Letting>,
    out: &mut Vec<T>,
    then: &mut impl FnMut(Grant) -> T,
) {
    let narrowed = Narrowed::of(st, perimeters);
    // Shared by the statement's grants (and their findings) instead of copied into each.
    let sid: Option<Arc<str>> = st.sid.as_deref().map(Arc::from);
    // `NotPrincipal` in an Allow opens the statement to everyone: one synthetic `*` entry.
    let everyone = PrincipalEntry {
        kind: PrincipalType::Star,
        value: String::new(),
    };
    let entries: &[PrincipalEntry] = match &st.principals {
        Principals::Listed(list) => list,
        Principals::AllExcept(_) => std::slice::from_ref(&everyone),
    };
    for (i, e) in entries.iter().enumerate() {
        if out.len() > MAX_GRANTS {
            return;
        }
        let (entry, mut principal) = match &st.principals {
            Principals::AllExcept(_) => {
                (None, "NotPrincipal (everyone but the listed)".to_string())
            }
            Principals::Listed(_) => (Some(i), e.display()),
        };
        let reach = principal::resolve(e.kind, &e.value);
        // One list of lettings for the whole policy, emptied for each entry.
        lettings(reach, st, resource, &narrowed, lets);
        let last = lets.len().saturating_sub(1);
        for (k, l) in lets.drain(..).enumerate() {
            if out.len() > MAX_GRANTS {
                return;
            }
            out.push(then(Grant {
                statement: st.index,
                sid: sid.clone(),
                entry,
                // Most entries let in one caller: theirs takes the text, not a copy.
                principal: if k == last {
                    std::mem::take(&mut principal)
                } else {
                    principal.clone()
                },
                principal_type: e.kind,
                who: l.who,
                via: l.via,
                nature: l.nature,
                orgs: l.orgs,
                actions: st.actions.clone(),
                external_id: narrowed.external_id,
                untrusted_conditions: narrowed.untrusted.clone(),
            }));
        }
    }
}

/// Whom one principal entry lets in once the statement's narrowing applies, added to
/// `out`.
fn lettings(reach: Who, st: &Statement, resource: &Resource, n: &Narrowed, out: &mut Vec<Letting>) {
    let (accounts, orgs, via_cond, fenced) = n.sets(&reach);
    let org_limit = || n.org_names(&orgs, fenced);
    // A wide principal (`*`, a service): whom the value sets narrow it to, else `none`.
    let wide = |out: &mut Vec<Letting>, none: Who, none_nature: Nature| {
        if !accounts.is_empty() {
            let limit = org_limit();
            out.extend(
                condition::intersect(&accounts)
                    .into_iter()
                    .map(|t| letting(t, via_cond, Nature::Plain, limit.clone())),
            );
        } else if !orgs.is_empty() {
            out.extend(
                condition::intersect(&orgs)
                    .into_iter()
                    .map(|t| letting(t, via_cond, Nature::Plain, empty())),
            );
        } else {
            out.push(letting(none, Via::Principal, none_nature, empty()));
        }
    };
    match reach {
        Who::Public => wide(out, Who::Public, Nature::Plain),
        Who::Account(a) => {
            // Let in unless a value set leaves it out: the intersection of the sets and
            // this one account, without building it (a set holding an unresolvable value
            // compares literally and leaves nobody out).
            let allowed = accounts.iter().all(|set| {
                set.iter().any(|t| match t {
                    Who::Account(x) => *x == a,
                    Who::Unresolvable(_) => true,
                    _ => false,
                })
            });
            if allowed {
                out.push(letting(
                    Who::Account(a),
                    Via::Principal,
                    Nature::Plain,
                    org_limit(),
                ));
            }
        }
        Who::Service(svc)
            if resource.kind.spec().service_principals == ServicePrincipals::ActForOwner =>
        {
            out.push(letting(
                Who::Account(resource.account.clone()),
                Via::Principal,
                Nature::Internal(format!("{svc} acts for the owner account in a role trust")),
                empty(),
            ));
        }
        Who::Service(svc) => wide(
            out,
            Who::Unresolvable(format!("{svc} acting for any account")),
            Nature::Warning(format!(
                "service principal {svc} without aws:SourceAccount/aws:SourceArn/aws:SourceOrgID: \
                 any account's resources could use it against this one (confused deputy)"
            )),
        ),
        Who::Federated {
            provider,
            account,
            saml,
        } => out.push(federated(st, resource, &provider, account, saml)),
        Who::Org(o) => out.push(letting(Who::Org(o), Via::Principal, Nature::Plain, empty())),
        Who::Unresolvable(why) => out.push(letting(
            Who::Unresolvable(why),
            Via::Principal,
            Nature::Plain,
            empty(),
        )),
    }
}

/// The organisations a caller must also be in (intersect of no sets: none).
fn org_names(orgs: &[&[Who]]) -> Vec<String> {
    condition::intersect(orgs)
        .into_iter()
        .map(|t| match t {
            Who::Org(o) | Who::Account(o) | Who::Unresolvable(o) => o,
            // Condition values name none of these; kept as text that no `[[org]]` entry
            // approves, never dropped.
            Who::Public => "*".into(),
            Who::Service(s) => s,
            Who::Federated { provider, .. } => provider,
        })
        .collect()
}

/// An OIDC or SAML provider's identities: an OIDC provider shared by everyone (GitHub,
/// Google…) with no subject condition lets any of its users in.
fn federated(
    st: &Statement,
    resource: &Resource,
    provider: &str,
    account: Option<String>,
    saml: bool,
) -> Letting {
    if !saml && !condition::oidc_subject_narrowed(&st.conditions, provider) {
        let claim = if provider.eq_ignore_ascii_case("cognito-identity.amazonaws.com") {
            "aud"
        } else {
            "sub"
        };
        letting(
            Who::Public,
            Via::Principal,
            Nature::Forbidden(format!(
                "any subject of the shared identity provider {provider} can assume this role: \
                 add a {provider}:{claim} condition naming who may"
            )),
            empty(),
        )
    } else {
        let who = Who::Account(account.unwrap_or_else(|| resource.account.clone()));
        letting(who, Via::Principal, Nature::Plain, empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(kind: &str) -> Resource {
        Resource::from_spec(kind, "222222222222", Some("us-east-1")).unwrap()
    }

    fn run(kind: &str, statements: &str) -> Vec<Grant> {
        let doc = PolicyDocument::parse(&format!(
            r#"{{"Version":"2012-10-17","Statement":{statements}}}"#
        ))
        .unwrap();
        grants(&doc, &res(kind))
    }

    fn whos(g: &[Grant]) -> Vec<Who> {
        g.iter().map(|g| g.who.clone()).collect()
    }

    fn acct(a: &str) -> Who {
        Who::Account(a.into())
    }

    #[test]
    fn principal_forms() {
        let g = run(
            "bucket/b",
            r#"[{"Effect":"Allow","Principal":{"AWS":["111111111111","arn:aws:iam::333333333333:role/R","arn:aws:sts::444444444444:assumed-role/R/s","AROAEXAMPLEEXAMPLE123"]},"Action":"s3:GetObject","Resource":"*"}]"#,
        );
        assert_eq!(
            whos(&g)[..3],
            [
                acct("111111111111"),
                acct("333333333333"),
                acct("444444444444")
            ]
        );
        assert!(matches!(g[3].who, Who::Unresolvable(_)));
        assert_eq!(
            whos(&run(
                "bucket/b",
                r#"{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}"#
            )),
            [Who::Public]
        );
        assert_eq!(
            whos(&run(
                "bucket/b",
                r#"{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"}"#
            )),
            [Who::Public]
        );
    }

    #[test]
    fn deny_grants_nothing_and_not_principal_is_public() {
        assert!(run(
            "bucket/b",
            r#"[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*"}]"#
        )
        .is_empty());
        let g = run(
            "bucket/b",
            r#"[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":"s3:GetObject","Resource":"*"}]"#,
        );
        assert_eq!(whos(&g), [Who::Public]);
        assert_eq!(g[0].entry, None);
    }

    #[test]
    fn conditions_narrow_public_to_accounts_and_orgs() {
        let g = run(
            "bucket/b",
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":["111111111111","333333333333"]}}}"#,
        );
        assert_eq!(whos(&g), [acct("111111111111"), acct("333333333333")]);
        assert!(g.iter().all(|g| g.via == Via::Condition));
        let g = run(
            "bucket/b",
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#,
        );
        assert_eq!(whos(&g), [Who::Org("o-a1b2c3d4e5".into())]);
        // AND across keys: account ∩ account, and the org is recorded.
        let g = run(
            "bucket/b",
            r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":["111111111111","333333333333"],"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::333333333333:role/*"}}}"#,
        );
        assert_eq!(whos(&g), [acct("333333333333")]);
        assert_eq!(*g[0].orgs, ["o-a1b2c3d4e5"]);
    }

    #[test]
    fn untrusted_conditions_leave_it_public() {
        for cond in [
            r#"{"StringEqualsIfExists":{"aws:PrincipalAccount":"111111111111"}}"#,
            r#"{"StringNotEquals":{"aws:PrincipalAccount":"111111111111"}}"#,
            r#"{"StringLike":{"aws:PrincipalAccount":"*"}}"#,
            r#"{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}"#,
            r#"{"Bool":{"aws:SecureTransport":"true"}}"#,
            r#"{"Bool":{"aws:MultiFactorAuthPresent":"true"}}"#,
            r#"{"StringEquals":{"sts:ExternalId":"x"}}"#,
        ] {
            let g = run(
                "bucket/b",
                &format!(
                    r#"{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{cond}}}"#
                ),
            );
            assert_eq!(whos(&g), [Who::Public], "{cond}");
            assert!(!g[0].untrusted_conditions.is_empty(), "{cond}");
        }
    }

    #[test]
    fn condition_excluding_named_account_grants_nothing() {
        let g = run(
            "bucket/b",
            r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}}"#,
        );
        assert!(g.is_empty());
    }

    #[test]
    fn a_named_account_is_let_in_only_where_every_value_set_allows_it() {
        let named = |cond: &str| {
            whos(&run(
                "bucket/b",
                &format!(
                    r#"{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:role/R"}},"Action":"s3:GetObject","Resource":"*","Condition":{cond}}}"#
                ),
            ))
        };
        let in_ = vec![acct("111111111111")];
        for (cond, want) in [
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":["333333333333","111111111111"]}}"#,
                &in_,
            ),
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":"333333333333"}}"#,
                &vec![],
            ),
            // A value compared literally (a wildcard) leaves nobody out.
            (r#"{"StringLike":{"aws:PrincipalAccount":["3333*"]}}"#, &in_),
            // Every set must allow it.
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":["111111111111","333333333333"]},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::333333333333:role/*"}}"#,
                &vec![],
            ),
            (
                r#"{"StringEquals":{"aws:PrincipalAccount":["111111111111","333333333333"]},"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::111111111111:role/*"}}"#,
                &in_,
            ),
        ] {
            assert_eq!(&named(cond), want, "{cond}");
        }
    }

    #[test]
    fn deny_perimeter_is_honoured() {
        let perimeter = r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#;
        let allow = r#"{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}"#;
        let g = run("bucket/b", &format!("[{allow},{perimeter}]"));
        assert_eq!(whos(&g), [Who::Org("o-a1b2c3d4e5".into())]);
        assert_eq!(g[0].via, Via::Perimeter);
        // Account perimeter narrows a named account out entirely.
        let acct_perimeter = r#"{"Effect":"Deny","Principal":{"AWS":"*"},"Action":"*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalAccount":["222222222222"]}}}"#;
        let named = r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"s3:GetObject","Resource":"*"}"#;
        assert!(run("bucket/b", &format!("[{named},{acct_perimeter}]")).is_empty());
        // IfExists in a Deny applies when the key is missing too: still a perimeter.
        for op in ["StringNotEqualsIfExists", "StringNotLikeIfExists"] {
            let p = format!(
                r#"{{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{{"{op}":{{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}}}}"#
            );
            let g = run("bucket/b", &format!("[{allow},{p}]"));
            assert_eq!(whos(&g), vec![Who::Org("o-a1b2c3d4e5".into())], "{op}");
        }
        // Not honoured: a Deny that is no negation, extra conditions, narrower actions or resources.
        for weak in [
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#,
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"Bool":{"aws:SecureTransport":"false"}}}"#,
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#,
            r#"{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/private/*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#,
            r#"{"Effect":"Deny","Principal":{"AWS":"111111111111"},"Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}"#,
        ] {
            assert_eq!(
                whos(&run("bucket/b", &format!("[{allow},{weak}]"))),
                [Who::Public],
                "{weak}"
            );
        }
    }

    #[test]
    fn service_principals() {
        let bare = r#"{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}"#;
        let g = run("bucket/b", bare);
        assert!(matches!(g[0].nature, Nature::Warning(_)));
        let g = run(
            "bucket/b",
            r#"{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"*","Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"}}}"#,
        );
        assert_eq!(
            (whos(&g), &g[0].nature),
            (vec![acct("111111111111")], &Nature::Plain)
        );
        let g = run(
            "key/k",
            r#"{"Effect":"Allow","Principal":{"Service":"logs.amazonaws.com"},"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:logs:us-east-1:333333333333:log-group:*"}}}"#,
        );
        assert_eq!(whos(&g), [acct("333333333333")]);
        let g = run(
            "role/r",
            r#"{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}"#,
        );
        assert_eq!(whos(&g), [acct("222222222222")]);
        assert!(matches!(g[0].nature, Nature::Internal(_)));
    }

    #[test]
    fn federated_trusts() {
        let gh = "arn:aws:iam::222222222222:oidc-provider/token.actions.githubusercontent.com";
        let open = format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"{gh}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"token.actions.githubusercontent.com:aud":"sts.amazonaws.com"}}}}}}"#
        );
        let g = run("role/r", &open);
        assert!(matches!(g[0].nature, Nature::Forbidden(_)), "{g:?}");
        let pinned = format!(
            r#"{{"Effect":"Allow","Principal":{{"Federated":"{gh}"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringLike":{{"token.actions.githubusercontent.com:sub":"repo:my-org/app:*"}}}}}}"#
        );
        let g = run("role/r", &pinned);
        assert_eq!(
            (whos(&g), &g[0].nature),
            (vec![acct("222222222222")], &Nature::Plain)
        );
        let saml = r#"{"Effect":"Allow","Principal":{"Federated":"arn:aws:iam::222222222222:saml-provider/Okta"},"Action":"sts:AssumeRoleWithSAML"}"#;
        assert_eq!(whos(&run("role/r", saml)), [acct("222222222222")]);
    }

    #[test]
    fn external_id_is_recorded() {
        let g = run(
            "role/r",
            r#"{"Effect":"Allow","Principal":{"AWS":"111111111111"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}"#,
        );
        assert!(g[0].external_id);
    }
}
