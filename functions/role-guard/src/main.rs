//! role-guard: guards IAM role trust policies (CreateRole, UpdateAssumeRolePolicy).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(|sdk| {
        crossguard_guard::aws::RoleTrusts(crossguard_guard::aws::iam_client(sdk))
    })
    .await
}
