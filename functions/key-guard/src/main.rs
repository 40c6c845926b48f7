//! key-guard: guards KMS key policies (CreateKey, PutKeyPolicy) and grants (CreateGrant).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(|sdk| {
        crossguard_guard::aws::KeyPolicies(crossguard_guard::aws::kms_client(sdk))
    })
    .await
}
