//! Who is let in: the one answer every layer gives. A principal entry resolves to it
//! ([`crate::principal::resolve`]: any variant but `Org`), a narrowing condition value
//! names it ([`crate::condition`]: `Account`, `Org` or `Unresolvable`), and a grant lets
//! it in ([`crate::analysis`]: `Public`, `Account`, `Org` or `Unresolvable`, services and
//! identity providers already resolved to whom they act for).

/// Who is let in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    /// Everyone, anonymous callers included.
    Public,
    /// Principals of this account (its root, or a user/role/session in it).
    Account(String),
    /// Any account of this AWS Organization.
    Org(String),
    /// An AWS service acting on someone's behalf (a principal, before conditions).
    Service(String),
    /// Identities of an OIDC or SAML provider (a principal, before conditions).
    /// `account` is the provider's account when it is an IAM provider ARN, `None` for
    /// global web-identity providers.
    Federated {
        /// The provider (`token.actions.githubusercontent.com`, a provider ARN).
        provider: String,
        /// The provider's account, for an IAM provider ARN.
        account: Option<String>,
        /// SAML rather than OIDC.
        saml: bool,
    },
    /// Somebody whose account cannot be told (unique id, canonical user, malformed, a
    /// value compared literally); the text says why. Never approvable.
    Unresolvable(String),
}
