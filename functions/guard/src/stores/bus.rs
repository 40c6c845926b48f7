//! EventBridge buses: read, write and list their policies.

use super::*;

/// EventBridge event bus policies, edited a statement at a time (RemovePermission by
/// statement id), like Lambda's.
#[derive(Clone)]
pub struct BusPolicies(pub aws_sdk_eventbridge::Client);

impl BusPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
        Self(aws_sdk_eventbridge::Client::new(sdk))
    }

    /// Every event bus name, page by page (EventBridge's model has no paginator for it).
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let resp = self
                .0
                .list_event_buses()
                .set_limit(page)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| aws_error("ListEventBuses", &e))?;
            out.extend(
                resp.event_buses()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
            match resp.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }
}

impl PolicyStore for BusPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Bus
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
        match self.0.describe_event_bus().name(&r.name).send().await {
            Ok(out) => Ok(out
                .policy
                .filter(|p| !p.is_empty())
                .map_or(Live::NoPolicy, Live::Policy)),
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_eventbridge::operation::describe_event_bus::DescribeEventBusError::is_resource_not_found_exception,
                ) =>
            {
                Ok(Live::Gone)
            }
            Err(e) => Err(aws_error("DescribeEventBus", &e)),
        }
    }

    async fn write(&self, r: &Resource, _: &str) -> Result<(), AwsError> {
        Err(by_sid_only(r))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        Err(by_sid_only(r))
    }

    async fn remove_statements(&self, r: &Resource, sids: &[String]) -> Result<(), AwsError> {
        for sid in sids {
            match self
                .0
                .remove_permission()
                .event_bus_name(&r.name)
                .statement_id(sid)
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_eventbridge::operation::remove_permission::RemovePermissionError::is_resource_not_found_exception,
                    ) => {}
                Err(e) => return Err(aws_error("RemovePermission", &e)),
            }
        }
        Ok(())
    }
}
