//! secret-guard: guards Secrets Manager resource policies (PutResourcePolicy, DeleteResourcePolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::SecretPolicies::new).await
}
