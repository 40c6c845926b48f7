//! bucket-guard: guards S3 bucket policies (PutBucketPolicy, DeleteBucketPolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(|sdk| {
        crossguard_guard::aws::BucketPolicies(crossguard_guard::aws::s3_client(sdk))
    })
    .await
}
