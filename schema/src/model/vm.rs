//! `VMConfig`: the one ephemeral VM a workflow may use.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::names;

/// The VM that actions marked `RequiresVM` run on.
///
/// The provider-independent part. Each registered provider adds its own required fields
/// (for `AWS`: `InstanceId`, `Region`) through the generated schema's
/// `if Provider == K then K's config schema` clause; unknown keys are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "VMConfig")]
pub struct VmConfig {
    /// Name of this VM configuration. Also names the credential secrets:
    /// `<Name>_AccessKey` and `<Name>_SecretKey`.
    #[serde(rename = "Name")]
    #[schemars(length(min = 1))]
    pub name: String,

    /// The IaaS provider that owns the VM.
    #[serde(rename = "Provider")]
    pub provider: String,

    /// Provider-specific VM identifier (AWS: the EC2 instance id, `i-...`).
    #[serde(
        rename = "InstanceId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub instance_id: Option<String>,

    /// Provider region of the VM (AWS: for example `us-west-2`).
    #[serde(rename = "Region", default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,

    /// Name under which the VM registers as a GitHub Actions self-hosted runner: 1 to 64
    /// characters, none of `" / : < > \ | * ?`. When set (and a GitHub token is available)
    /// readiness waits until this runner is online.
    #[serde(
        rename = "RunnerName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1, max = 64), pattern(names::RUNNER_NAME))]
    pub runner_name: Option<String>,

    /// Extra labels of the VM's self-hosted runner: VM jobs then run on
    /// `[self-hosted, <labels>]`, so they land only on this runner.
    #[serde(
        rename = "RunnerLabels",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub runner_labels: Option<Vec<String>>,

    /// With a runner check, also wait for the VM's health checks before VM actions run (the
    /// strict behaviour; slower by minutes). Without a runner check they are always waited for.
    #[serde(
        rename = "WaitForStatusChecks",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub wait_for_status_checks: Option<bool>,

    /// Seconds to wait for the VM to run (and pass its health checks when waited for).
    /// Default 300.
    #[serde(
        rename = "StatusTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub status_timeout: Option<u64>,

    /// Seconds to wait for the runner to come online once the VM runs. Default 300.
    #[serde(
        rename = "RunnerTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub runner_timeout: Option<u64>,

    /// Seconds the reaper (`ephflow vm reap`, the rendered scheduled workflow) lets the VM run
    /// with its runner online and idle and no VM job queued or running, before stopping it.
    /// Default 1800 (30 minutes: longer than typical gaps between VM actions; a later poll
    /// starts the VM again anyway).
    #[serde(
        rename = "IdleTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub idle_timeout: Option<u64>,

    /// Seconds after which the reaper stops the VM however long it has been idle, unless a
    /// VM job is queued or running on it. Default 43200 (12 hours).
    #[serde(
        rename = "MaxLifetime",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub max_lifetime: Option<u64>,

    /// Seconds a VM action's job may run before GitHub cancels it: the rendered job's
    /// `timeout-minutes`, rounded up to whole minutes. Its failure teardown then stops the VM;
    /// the reaper never stops a VM under a running job, so this bounds a hung one. Default: the
    /// smaller of `MaxLifetime` and 21600 (6 hours, GitHub's own default). Raise it for longer
    /// actions (GitHub allows self-hosted jobs up to 5 days).
    #[serde(
        rename = "JobTimeout",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1))]
    pub job_timeout: Option<u64>,

    /// Other keys (provider-specific settings, or tool settings such as `Strategy`), kept as
    /// written.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
