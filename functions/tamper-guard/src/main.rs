//! tamper-guard: the guard guarding itself. Alerts (critical) on calls that disable,
//! delete or rewrite the deployment's rules, functions, roles, alert topic, trail or
//! evidence bucket; undoes a disabled rule or a stopped trail in remediate mode.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::tamper::run().await
}
