//! The policy stores of the queue, topic, function, secret, repository, event bus and
//! access point kinds: how the guard reads, writes and deletes each one's policy, and how `scan` lists
//! them (every page). One small adapter per kind; the engine's registry
//! (`crossguard_engine::kinds`) holds everything else about the kind.

use crate::aws::{aws_error, same_region};
use crate::ports::{AwsError, Live, PolicyStore};
#[cfg(feature = "access-point")]
use aws_sdk_s3::error::ProvideErrorMetadata;
use crossguard_engine::{Resource, ResourceKind};

/// Why a per-statement policy (Lambda, EventBridge) is never written whole: the verified
/// plan's statements are removed by Sid (`remove_statements`).
#[cfg(any(feature = "function", feature = "bus"))]
fn by_sid_only(r: &Resource) -> AwsError {
    AwsError::local(
        "RemovePermission",
        format!(
            "the {} is edited a statement at a time: the plan's statements are removed by Sid",
            r.kind.spec().policy_name
        ),
    )
}

#[cfg(feature = "queue")]
mod queue;
#[cfg(feature = "queue")]
pub use queue::QueuePolicies;
#[cfg(feature = "topic")]
mod topic;
#[cfg(feature = "topic")]
pub use topic::TopicPolicies;
#[cfg(feature = "function")]
mod function;
#[cfg(feature = "function")]
pub use function::FunctionPolicies;
#[cfg(feature = "secret")]
mod secret;
#[cfg(feature = "secret")]
pub use secret::SecretPolicies;
#[cfg(feature = "repository")]
mod repository;
#[cfg(feature = "repository")]
pub use repository::RepositoryPolicies;
#[cfg(feature = "access-point")]
mod access_point;
#[cfg(feature = "access-point")]
pub use access_point::AccessPointPolicies;
#[cfg(feature = "bus")]
mod bus;
#[cfg(feature = "bus")]
pub use bus::BusPolicies;
