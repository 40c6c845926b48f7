//! queue-guard: guards SQS queue policies (CreateQueue, SetQueueAttributes, AddPermission).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::QueuePolicies::new).await
}
