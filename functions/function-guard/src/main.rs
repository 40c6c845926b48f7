//! function-guard: guards Lambda function policies (AddPermission, function URLs with AuthType NONE).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::FunctionPolicies::new).await
}
