//! One entry of `ComputeServers`: where actions run.

use schemars::{JsonSchema, Schema};
use serde::{Deserialize, Serialize};
use serde_json::{Number, Value, json};

/// The kind of platform a compute server is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum FaaSType {
    /// GitHub Actions (hosted runners, or the VM's self-hosted runner for VM actions).
    GitHubActions,
    /// AWS Lambda.
    Lambda,
    /// Apache OpenWhisk.
    OpenWhisk,
    /// Google Cloud Run jobs.
    GoogleCloud,
    /// A SLURM cluster through its REST API.
    #[serde(rename = "SLURM")]
    Slurm,
    /// A Kubernetes cluster.
    Kubernetes,
}

impl FaaSType {
    /// Every platform, in FaaSr's documentation order.
    pub const ALL: [FaaSType; 6] = [
        FaaSType::GitHubActions,
        FaaSType::Lambda,
        FaaSType::OpenWhisk,
        FaaSType::GoogleCloud,
        FaaSType::Slurm,
        FaaSType::Kubernetes,
    ];

    /// The value as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            FaaSType::GitHubActions => "GitHubActions",
            FaaSType::Lambda => "Lambda",
            FaaSType::OpenWhisk => "OpenWhisk",
            FaaSType::GoogleCloud => "GoogleCloud",
            FaaSType::Slurm => "SLURM",
            FaaSType::Kubernetes => "Kubernetes",
        }
    }

    /// Fields FaaSr requires on a server of this type.
    pub fn required_fields(self) -> &'static [&'static str] {
        match self {
            FaaSType::GitHubActions => &["UserName", "ActionRepoName"],
            FaaSType::Lambda => &["Region"],
            FaaSType::OpenWhisk => &["Endpoint", "Namespace"],
            FaaSType::GoogleCloud => &["Namespace", "ClientEmail", "TokenUri", "Region"],
            FaaSType::Slurm => &["Endpoint", "UserName", "APIVersion", "Partition"],
            FaaSType::Kubernetes => &["Endpoint"],
        }
    }
}

impl std::fmt::Display for FaaSType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A compute server. One struct carries the fields of every platform (as FaaSr's own schema
/// does); the generated schema requires each platform's fields with `if FaaSType == ...`.
/// Secrets are named after the entry: GitHubActions `<S>_PAT`, Lambda `<S>_AccessKey` and
/// `<S>_SecretKey`, OpenWhisk `<S>_APIkey`, GoogleCloud `<S>_SecretKey`, SLURM and
/// Kubernetes `<S>_Token`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = require_fields_per_type)]
pub struct ComputeServer {
    /// The platform.
    #[serde(rename = "FaaSType")]
    pub faas_type: FaaSType,
    /// Region (Lambda, GoogleCloud).
    #[serde(rename = "Region", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub region: Option<String>,
    /// API endpoint URL (OpenWhisk, SLURM, Kubernetes).
    #[serde(rename = "Endpoint", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub endpoint: Option<String>,
    /// Scheduler endpoint URL.
    #[serde(
        rename = "SchedulerEndpoint",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1))]
    pub scheduler_endpoint: Option<String>,
    /// Namespace (OpenWhisk) or project (GoogleCloud).
    #[serde(rename = "Namespace", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub namespace: Option<String>,
    /// OpenWhisk API key reference (prefer the `<S>_APIkey` secret).
    #[serde(rename = "API.key", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub api_key: Option<String>,
    /// Access key reference (prefer the `<S>_AccessKey` secret).
    #[serde(rename = "AccessKey", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub access_key: Option<String>,
    /// Secret key reference (prefer the `<S>_SecretKey` secret).
    #[serde(rename = "SecretKey", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub secret_key: Option<String>,
    /// Service-account e-mail (GoogleCloud).
    #[serde(
        rename = "ClientEmail",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1))]
    pub client_email: Option<String>,
    /// OAuth token URI (GoogleCloud).
    #[serde(rename = "TokenUri", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub token_uri: Option<String>,
    /// Account or organisation owning the action repository (GitHubActions), or the cluster
    /// user (SLURM).
    #[serde(rename = "UserName", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub user_name: Option<String>,
    /// Repository holding the generated GitHub Actions workflows (GitHubActions).
    #[serde(
        rename = "ActionRepoName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1))]
    pub action_repo_name: Option<String>,
    /// Token reference (prefer the `<S>_Token` secret).
    #[serde(rename = "Token", default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub token: Option<String>,
    /// Branch of the action repository that workflows are dispatched on (GitHubActions).
    #[serde(rename = "Branch", default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// REST API version (SLURM).
    #[serde(
        rename = "APIVersion",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub api_version: Option<String>,
    /// Batch partition (SLURM).
    #[serde(rename = "Partition", default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<String>,
    /// Read secrets from the platform's secret store (true) or from the payload (false).
    #[serde(
        rename = "UseSecretStore",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = true))]
    pub use_secret_store: Option<bool>,
    /// Secret name to value pairs, when secrets travel in the payload.
    #[serde(
        rename = "SecretsList",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub secrets_list: Option<indexmap::IndexMap<String, String>>,
    /// Accept self-signed TLS certificates from the endpoint.
    #[serde(
        rename = "AllowSelfSignedCertificate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(extend("default" = false))]
    pub allow_self_signed_certificate: Option<bool>,
    /// Default number of nodes (SLURM).
    #[serde(rename = "Nodes", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub nodes: Option<u64>,
    /// Default number of tasks (SLURM).
    #[serde(rename = "Tasks", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub tasks: Option<u64>,
    /// Default CPUs per task (SLURM).
    #[serde(
        rename = "CPUsPerTask",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub cpus_per_task: Option<u64>,
    /// Default memory in MB (SLURM).
    #[serde(rename = "Memory", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub memory: Option<u64>,
    /// Default time limit in minutes (SLURM).
    #[serde(rename = "TimeLimit", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub time_limit: Option<u64>,
    /// Default working directory (SLURM).
    #[serde(
        rename = "WorkingDirectory",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub working_directory: Option<String>,
    /// Server-level default maximum memory, in MB.
    #[serde(rename = "MaxMemory", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_memory: Option<Number>,
    /// Server-level default maximum runtime, in seconds.
    #[serde(
        rename = "MaxRuntime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub max_runtime: Option<Number>,
    /// Server-level default maximum storage, in MB.
    #[serde(
        rename = "MaxStorage",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub max_storage: Option<Number>,
    /// Maximum CPU of one container, in millicores (Kubernetes).
    #[serde(rename = "MaxCPU", default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_cpu: Option<Number>,
    /// SSL certificate for the endpoint's domain (Kubernetes).
    #[serde(
        rename = "SSLCertificate",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub ssl_certificate: Option<String>,
    /// Extra time to keep finished jobs, in seconds (Kubernetes).
    #[serde(
        rename = "AdditionalTimeToLive",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub additional_time_to_live: Option<Number>,
    /// How often a failed job is retried (Kubernetes).
    #[serde(
        rename = "NumberOfRetries",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 0))]
    pub number_of_retries: Option<Number>,
}

/// Adds `allOf: [{if FaaSType == T then required: [...]}, ...]` from [`FaaSType::required_fields`].
fn require_fields_per_type(schema: &mut Schema) {
    let clauses: Vec<Value> = FaaSType::ALL
        .iter()
        .map(|t| {
            json!({
                "if": {"properties": {"FaaSType": {"const": t.as_str()}}, "required": ["FaaSType"]},
                "then": {"required": t.required_fields()},
            })
        })
        .collect();
    schema.insert("allOf".into(), Value::Array(clauses));
}
