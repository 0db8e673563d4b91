//! The VM provider plugin interface: a small async trait, one method per lifecycle operation.
//! Everything clever (idempotency, waiting, retrying) lives in [`crate::lifecycle`], so a new
//! provider only maps four calls onto its cloud.

mod error;
mod secrets;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ephflow_schema::model::VmConfig;

pub use error::{ErrorClass, ProviderError};
pub use secrets::{
    DerivedSecret, EnvSecrets, Secret, SecretSource, StaticSecrets, derived_secret_names,
    derived_secrets, is_portable_secret_name,
};

/// The power state of a VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VmState {
    /// Booting.
    Pending,
    /// Up.
    Running,
    /// Shutting down, will be stopped.
    Stopping,
    /// Off (can be started).
    Stopped,
    /// Being deleted.
    ShuttingDown,
    /// Deleted (cannot be started).
    Terminated,
}

impl VmState {
    /// The name used in messages and JSON.
    pub fn name(self) -> &'static str {
        match self {
            VmState::Pending => "pending",
            VmState::Running => "running",
            VmState::Stopping => "stopping",
            VmState::Stopped => "stopped",
            VmState::ShuttingDown => "shutting-down",
            VmState::Terminated => "terminated",
        }
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The result of a health check (EC2: instance and system status checks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckStatus {
    /// Passed.
    Ok,
    /// Not decided yet.
    Initializing,
    /// Failed.
    Impaired,
    /// Not enough data yet.
    InsufficientData,
    /// No check applies (for example the VM is stopped).
    NotApplicable,
}

impl CheckStatus {
    /// The name used in messages and JSON.
    pub fn name(self) -> &'static str {
        match self {
            CheckStatus::Ok => "ok",
            CheckStatus::Initializing => "initializing",
            CheckStatus::Impaired => "impaired",
            CheckStatus::InsufficientData => "insufficient-data",
            CheckStatus::NotApplicable => "not-applicable",
        }
    }
}

/// What [`VmProvider::describe`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VmStatus {
    /// Power state.
    pub state: VmState,
    /// The check of the VM's own software/network (EC2: instance status).
    pub instance_check: CheckStatus,
    /// The check of the host underneath (EC2: system status).
    pub system_check: CheckStatus,
}

impl VmStatus {
    /// Running with both checks ok.
    pub fn is_healthy(&self) -> bool {
        self.state == VmState::Running
            && self.instance_check == CheckStatus::Ok
            && self.system_check == CheckStatus::Ok
    }
}

/// A VM on some IaaS. Methods are single requests: no waiting, no retrying (the lifecycle
/// engine does both), no secrets in errors.
#[async_trait::async_trait]
pub trait VmProvider: Send + Sync {
    /// The VM's identifier, for messages (EC2: the instance id).
    fn vm_id(&self) -> &str;

    /// The power state and health checks.
    async fn describe(&self) -> Result<VmStatus, ProviderError>;

    /// Asks the VM to start; returns once the request is accepted.
    async fn start(&self) -> Result<(), ProviderError>;

    /// Asks the VM to stop; returns once the request is accepted.
    async fn stop(&self) -> Result<(), ProviderError>;

    /// Checks, without side effects, that the credentials may describe, start and stop the VM
    /// (EC2: DryRun requests). Names the missing permission on failure.
    async fn preflight(&self) -> Result<(), ProviderError>;

    /// When the VM last started, if the provider can tell (EC2: the instance's launch time,
    /// which a start resets). The reaper's max-lifetime rule needs it; without it (the
    /// default) that rule is skipped and the reaper says so.
    async fn running_since(&self) -> Result<Option<std::time::SystemTime>, ProviderError> {
        Ok(None)
    }

    /// Resolves the credentials and says where they came from (EC2: the `<Name>_AccessKey` /
    /// `<Name>_SecretKey` variables, or the standard AWS chain), never what they are. Async
    /// and fallible because a credential chain is only known to hold credentials once it has
    /// been asked (`ephflow doctor` reports a chain that holds none). The default: `None`, the
    /// provider cannot tell.
    async fn credential_source(&self) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
}

/// What a provider is built from.
#[derive(Clone)]
pub struct BuildContext {
    /// The workflow's VMConfig.
    pub config: VmConfig,
    /// Where credentials come from.
    pub secrets: Arc<dyn SecretSource>,
}

impl fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuildContext")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A provider being built (building may load credentials asynchronously).
pub type BuildFuture =
    Pin<Box<dyn Future<Output = Result<Box<dyn VmProvider>, ProviderError>> + Send>>;

/// A value of a CI step's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiValue {
    /// A repository secret, by name (rendered as `${{ secrets.NAME }}`).
    Secret(String),
    /// A literal, taken from the workflow (never placed inside `run:`).
    Literal(String),
}

/// A CI step, rendered by an execution backend: a fixed command that reads everything it
/// needs from its environment, so no workflow-derived text lands in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiStep {
    /// What the step is called.
    pub name: String,
    /// Its environment.
    pub env: Vec<(String, CiValue)>,
    /// The command (fixed text from the provider, not from the workflow).
    pub run: String,
    /// The step authenticates with GitHub's OIDC token instead of key secrets: its job needs
    /// `permissions: id-token: write`, and so do the jobs that run ephflow's own lifecycle
    /// (native builtins, the reaper), which then get none of the VM's key secrets.
    pub id_token: bool,
}
