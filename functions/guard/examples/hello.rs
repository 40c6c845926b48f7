//! The cold-start benchmark's baseline: the smallest function lambda_runtime runs (it
//! echoes its event), built with the same profile as the guards (`make bench`).

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        |e: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(e.payload)
        },
    ))
    .await
}
