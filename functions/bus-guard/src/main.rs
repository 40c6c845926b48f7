//! bus-guard: guards EventBridge event bus policies (PutPermission, CreateEventBus).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::BusPolicies::new).await
}
