//! Starting the next actions: FaaSr's OVERWRITTEN propagation, and the guard that keeps
//! credentials out of it.

use ephflow_schema::model::{FaaSType, Workflow};
use serde_json::{Map, Value, json};

use super::ActionError;
use super::invocation::Invocation;
use crate::graph::Graph;
use crate::provider::{ErrorClass, ProviderError, SecretSource, derived_secret_names};

/// One workflow dispatch to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextDispatch {
    /// The action to start.
    pub action: String,
    /// Its copy number, for a ranked edge.
    pub rank: Option<u32>,
    /// The ComputeServers entry it runs on.
    pub server_name: String,
    /// `<WorkflowName>-<Action>.yml`.
    pub workflow_file: String,
    /// The branch to run it on (the server's Branch, `main` by default).
    pub git_ref: String,
    /// The OVERWRITTEN input (JSON text).
    pub overwritten: String,
}

/// Why a builtin's successor cannot be started natively: it is not on a GitHubActions server
/// (the only backend with a dispatch today). Empty when every successor can.
pub fn native_dispatch_problems(workflow: &Workflow) -> Vec<String> {
    let graph = Graph::build(workflow);
    let mut problems = Vec::new();
    for (id, (name, action)) in workflow.action_list.iter().enumerate() {
        if !action.is_builtin() {
            continue;
        }
        for edge in graph.out_edges(id) {
            let next = graph.name(edge.to);
            let server = &workflow.action_list[edge.to].faas_server;
            let kind = workflow.compute_servers.get(server).map(|s| s.faas_type);
            if kind != Some(FaaSType::GitHubActions) {
                problems.push(format!(
                    "\"{name}\" starts \"{next}\", which runs on \"{server}\" ({}); native builtins dispatch only GitHubActions actions: register with --builtins faasr, or put \"{next}\" on a GitHubActions server",
                    kind.map_or("an unknown server", FaaSType::as_str)
                ));
            }
        }
    }
    problems
}

/// The dispatches that start `action`'s successors: one per InvokeNext entry, N for `name(N)`.
/// OVERWRITTEN carries what this action received, with `FunctionInvoke`, `InvocationID`,
/// `InvocationTimestamp` and (for a ranked copy) `FunctionRank` set.
pub fn plan(
    workflow: &Workflow,
    action: &str,
    incoming: &Map<String, Value>,
    invocation: &Invocation,
) -> Result<Vec<NextDispatch>, ActionError> {
    let graph = Graph::build(workflow);
    let Some(id) = graph.id(action) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for edge in graph.out_edges(id) {
        let next = graph.name(edge.to);
        if edge.branch.is_some() {
            return Err(ActionError::input(format!(
                "\"{action}\" has a conditional InvokeNext, but a lifecycle action returns no result to choose a branch; make its InvokeNext plain"
            )));
        }
        let server_name = workflow.action_list[edge.to].faas_server.clone();
        let server = workflow.compute_servers.get(&server_name);
        let Some(server) = server.filter(|s| s.faas_type == FaaSType::GitHubActions) else {
            return Err(ActionError::Cloud {
                what: format!("starting \"{next}\""),
                source: ProviderError::new(
                    ErrorClass::Unsupported,
                    format!(
                        "\"{next}\" runs on \"{server_name}\", not a GitHubActions server; native builtins dispatch only GitHubActions actions (register with --builtins faasr)"
                    ),
                ),
            });
        };
        let copies: Vec<Option<u32>> = match edge.rank.filter(|_| edge.is_ranked()) {
            Some(n) => (1..=n).map(Some).collect(),
            None => vec![None],
        };
        for rank in copies {
            let mut overwritten = incoming.clone();
            overwritten.remove("FunctionRank");
            overwritten.insert("FunctionInvoke".into(), json!(next));
            overwritten.insert("InvocationID".into(), json!(invocation.id));
            overwritten.insert("InvocationTimestamp".into(), json!(invocation.timestamp));
            if let Some(r) = rank {
                overwritten.insert("FunctionRank".into(), json!(r));
            }
            out.push(NextDispatch {
                action: next.to_owned(),
                rank,
                server_name: server_name.clone(),
                workflow_file: format!("{}-{next}.yml", workflow.workflow_name),
                git_ref: server.branch.clone().unwrap_or_else(|| "main".to_owned()),
                overwritten: Value::Object(overwritten).to_string(),
            });
        }
    }
    Ok(out)
}

/// Refuses an OVERWRITTEN that holds the value of any credential the workflow's secrets name
/// (or `GH_PAT` / `GITHUB_TOKEN`): dispatch inputs are visible to everyone who can read the
/// repository's Actions runs. The error names the secret, never its value.
pub fn check_no_secrets(
    workflow: &Workflow,
    secrets: &dyn SecretSource,
    overwritten: &str,
) -> Result<(), ActionError> {
    let mut names: Vec<String> = derived_secret_names(workflow)
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names.extend(["GH_PAT".to_owned(), "GITHUB_TOKEN".to_owned()]);
    for name in names {
        if let Some(secret) = secrets.get(&name) {
            // Very short values would match by accident and protect nothing.
            if secret.expose().len() >= 4 && overwritten.contains(secret.expose()) {
                return Err(ActionError::input(format!(
                    "OVERWRITTEN would carry the value of the secret {name}; nothing dispatched. Remove credentials from the OVERWRITTEN this action received"
                )));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::{Secret, StaticSecrets};
    use crate::test_support::workflow;

    fn invocation() -> Invocation {
        Invocation {
            id: "id-1".into(),
            timestamp: "ts".into(),
            created: true,
        }
    }

    #[test]
    fn ranks_expand_and_overwritten_propagates() {
        let w = workflow(json!({"a": ["b(2)", "c"], "b": [], "c": []}));
        let incoming: Map<String, Value> = serde_json::from_value(
            json!({"FunctionInvoke": "a", "FaaSrLog": "L", "FunctionRank": 7}),
        )
        .unwrap();
        let plan = plan(&w, "a", &incoming, &invocation()).unwrap();
        let got: Vec<(String, Option<u32>, Value)> = plan
            .iter()
            .map(|d| {
                (
                    d.workflow_file.clone(),
                    d.rank,
                    serde_json::from_str(&d.overwritten).unwrap(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "w-b.yml".into(),
                    Some(1),
                    json!({"FunctionInvoke": "b", "FaaSrLog": "L", "InvocationID": "id-1", "InvocationTimestamp": "ts", "FunctionRank": 1})
                ),
                (
                    "w-b.yml".into(),
                    Some(2),
                    json!({"FunctionInvoke": "b", "FaaSrLog": "L", "InvocationID": "id-1", "InvocationTimestamp": "ts", "FunctionRank": 2})
                ),
                (
                    "w-c.yml".into(),
                    None,
                    json!({"FunctionInvoke": "c", "FaaSrLog": "L", "InvocationID": "id-1", "InvocationTimestamp": "ts"})
                ),
            ]
        );
        assert!(
            plan.iter()
                .all(|d| d.git_ref == "main" && d.server_name == "GH")
        );
    }

    #[test]
    fn secrets_never_travel() {
        let w = workflow(json!({"a": []}));
        let secrets = StaticSecrets(vec![("S3_SecretKey".into(), Secret::new("wJalrXUtnFEMI"))]);
        assert!(check_no_secrets(&w, &secrets, r#"{"FunctionInvoke":"a"}"#).is_ok());
        let err = check_no_secrets(&w, &secrets, r#"{"X":"wJalrXUtnFEMI"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("S3_SecretKey") && !err.contains("wJalrXUtnFEMI"),
            "{err}"
        );
    }
}
