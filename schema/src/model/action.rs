//! One entry of `ActionList`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::invoke::InvokeNext;
use crate::names;

/// An action: one function invocation on one compute server.
///
/// FaaSr forbids unknown keys here, so a misspelt `RequiresVm` is caught instead of silently
/// running the action serverless.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Name of the user function to call (an R, Python or Julia identifier).
    #[serde(rename = "FunctionName")]
    #[schemars(length(min = 1), pattern(names::FUNCTION_NAME))]
    pub function_name: String,

    /// Name of the ComputeServers entry that runs this action.
    #[serde(rename = "FaaSServer")]
    #[schemars(length(min = 1))]
    pub faas_server: String,

    /// Language of the function; FaaSr picks the runtime container from it.
    #[serde(rename = "Type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ActionType>,

    /// Named arguments passed to the function.
    #[serde(rename = "Arguments", default, skip_serializing_if = "Option::is_none")]
    pub arguments: Option<Map<String, Value>>,

    /// Actions to trigger when this one succeeds; missing or empty makes it a leaf.
    #[serde(
        rename = "InvokeNext",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub invoke_next: Option<InvokeNext>,

    /// Run this action on the workflow's ephemeral VM (a GitHub Actions self-hosted runner)
    /// instead of a serverless runner. Only valid on GitHubActions servers; needs a top-level
    /// VMConfig.
    #[serde(
        rename = "RequiresVM",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = false))]
    pub requires_vm: Option<bool>,

    /// Internal: marks an action injected by a tool (vm_start, vm_poll, vm_stop). Do not set
    /// it on your own actions.
    #[serde(
        rename = "_faasr_builtin",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub faasr_builtin: Option<bool>,

    /// Maximum memory needed by the invocation, in MB.
    #[serde(rename = "MaxMemory", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_memory: Option<Number>,

    /// Maximum runtime needed by the invocation, in seconds.
    #[serde(
        rename = "MaxRuntime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub max_runtime: Option<Number>,

    /// Maximum local storage needed by the invocation, in MB.
    #[serde(
        rename = "MaxStorage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub max_storage: Option<Number>,

    /// Batch resources for SLURM (and similar) servers.
    // Boxed: rare, and 128 bytes inline in every action of a large workflow.
    #[serde(rename = "Resources", default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<Box<Resources>>,
}

impl Action {
    /// Whether the action is marked `RequiresVM: true`.
    pub fn requires_vm(&self) -> bool {
        self.requires_vm == Some(true)
    }

    /// Whether the action is marked `_faasr_builtin: true`.
    pub fn is_builtin(&self) -> bool {
        self.faasr_builtin == Some(true)
    }
}

/// The function's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ActionType {
    /// A Python function.
    Python,
    /// An R function.
    R,
    /// A Julia function.
    Julia,
}

/// Batch resource requirements (used by SLURM servers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    /// Number of nodes.
    #[serde(rename = "Nodes", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub nodes: Option<u64>,
    /// Number of tasks.
    #[serde(rename = "Tasks", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub tasks: Option<u64>,
    /// CPUs per task.
    #[serde(
        rename = "CPUsPerTask",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub cpus_per_task: Option<u64>,
    /// Memory, in MB.
    #[serde(rename = "Memory", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub memory: Option<u64>,
    /// Time limit, in minutes.
    #[serde(rename = "TimeLimit", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub time_limit: Option<u64>,
    /// Batch partition (queue) name.
    #[serde(rename = "Partition", default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Working directory on the cluster.
    #[serde(
        rename = "WorkingDirectory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_directory: Option<String>,
}
