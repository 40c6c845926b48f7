//! bucket-guard: guards S3 bucket policies (PutBucketPolicy, DeleteBucketPolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::aws::BucketPolicies::new).await
}
