//! access-point-guard: guards S3 access point policies (PutAccessPointPolicy,
//! DeleteAccessPointPolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::AccessPointPolicies::new).await
}
