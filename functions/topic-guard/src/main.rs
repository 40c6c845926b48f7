//! topic-guard: guards SNS topic policies (CreateTopic, SetTopicAttributes, AddPermission).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    crossguard_guard::run(crossguard_guard::stores::TopicPolicies::new).await
}
