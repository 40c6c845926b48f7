//! Lambda functions: read, write and list their policies.

use super::*;

/// `NAME:QUALIFIER` → (`NAME`, `QUALIFIER`): an alias's or version's own policy.
fn function_and_qualifier(name: &str) -> (&str, Option<&str>) {
    match name.split_once(':') {
        Some((f, q)) => (f, Some(q)),
        None => (name, None),
    }
}

/// Lambda function policies, edited a statement at a time: a plan is carried out by
/// RemovePermission of each statement it drops (the engine plans nothing else).
#[derive(Clone)]
pub struct FunctionPolicies(pub aws_sdk_lambda::Client);

impl FunctionPolicies {
    /// The store on this configuration's client.
    pub fn new(sdk: &aws_types::SdkConfig) -> Self {
        Self(aws_sdk_lambda::Client::new(sdk))
    }

    /// Every function name, page by page.
    pub async fn list(&self, page: Option<i32>) -> Result<Vec<String>, AwsError> {
        let mut p = self.0.list_functions().into_paginator();
        if let Some(n) = page {
            p = p.page_size(n);
        }
        let functions = p
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("ListFunctions", &e))?;
        Ok(functions
            .into_iter()
            .filter_map(|f| f.function_name)
            .collect())
    }
}

impl PolicyStore for FunctionPolicies {
    fn kind(&self) -> ResourceKind {
        ResourceKind::Function
    }

    async fn read(&self, r: &Resource) -> Result<Live, AwsError> {
        same_region(self.0.config().region(), r)?;
        let (function, qualifier) = function_and_qualifier(&r.name);
        match self
            .0
            .get_policy()
            .function_name(function)
            .set_qualifier(qualifier.map(str::to_string))
            .send()
            .await
        {
            Ok(out) => Ok(out.policy.map_or(Live::NoPolicy, Live::Policy)),
            // Lambda answers the same for a function without a policy and for no
            // function: either way nothing is shared.
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_lambda::operation::get_policy::GetPolicyError::is_resource_not_found_exception,
                ) =>
            {
                Ok(Live::NoPolicy)
            }
            Err(e) => Err(aws_error("GetPolicy", &e)),
        }
    }

    async fn write(&self, r: &Resource, _: &str) -> Result<(), AwsError> {
        Err(by_sid_only(r))
    }

    async fn delete(&self, r: &Resource) -> Result<(), AwsError> {
        Err(by_sid_only(r))
    }

    async fn remove_statements(&self, r: &Resource, sids: &[String]) -> Result<(), AwsError> {
        let (function, qualifier) = function_and_qualifier(&r.name);
        for sid in sids {
            match self
                .0
                .remove_permission()
                .function_name(function)
                .set_qualifier(qualifier.map(str::to_string))
                .statement_id(sid)
                .send()
                .await
            {
                Ok(_) => {}
                // Already gone: what the plan wanted.
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_lambda::operation::remove_permission::RemovePermissionError::is_resource_not_found_exception,
                    ) => {}
                Err(e) => return Err(aws_error("RemovePermission", &e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names_split_once() {
        assert_eq!(function_and_qualifier("f:live"), ("f", Some("live")));
        assert_eq!(function_and_qualifier("f"), ("f", None));
    }
}
