//! repository-guard: guards ECR repository policies (SetRepositoryPolicy, DeleteRepositoryPolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::RepositoryPolicies::new).await
}
