//! Helpers for the unit tests of this crate.

use ephflow_schema::model::Workflow;
use serde_json::json;

/// A workflow whose actions (all on one GitHubActions server, entry `a`) have the given
/// InvokeNext values: `{"a": ["b"], "b": []}`.
pub(crate) fn workflow(actions: serde_json::Value) -> Workflow {
    let mut list = serde_json::Map::new();
    for (name, next) in actions.as_object().expect("an object of InvokeNext values") {
        list.insert(
            name.clone(),
            json!({"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": next}),
        );
    }
    serde_json::from_value(json!({
        "WorkflowName": "w", "FunctionInvoke": "a", "DefaultDataStore": "S3",
        "ActionList": list,
        "ComputeServers": {"GH": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r"}},
        "DataStores": {"S3": {"Bucket": "b"}}
    }))
    .expect("test workflows are well-formed")
}
