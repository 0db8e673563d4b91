//! The execution backend plugin interface: where a ComputeServer's actions run (GitHub
//! Actions first). The lifecycle engine needs one thing from it, the runner check; invoking
//! needs dispatch and file lookups.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use ephflow_schema::model::ComputeServer;

use crate::lifecycle::RunnerProbe;
use crate::provider::{ProviderError, SecretSource};

/// What the backend says about a self-hosted runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunnerStatus {
    /// Registered and idle.
    Online,
    /// Registered and running a job (online too).
    Busy,
    /// Registered but not connected.
    Offline,
    /// Not registered (yet).
    Absent,
}

impl RunnerStatus {
    /// Whether it can take a job now or soon (online or busy).
    pub fn is_online(self) -> bool {
        matches!(self, RunnerStatus::Online | RunnerStatus::Busy)
    }
}

/// Where a workflow run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunState {
    /// Waiting for a runner (GitHub: queued, requested, waiting, pending).
    Queued,
    /// Running.
    InProgress,
    /// Finished, whatever the result.
    Completed,
}

/// One run of a workflow file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkflowRun {
    /// Where it is.
    pub state: RunState,
    /// When it last changed (for a completed run: about when it finished).
    pub updated_at: std::time::SystemTime,
}

/// A place where actions run. Single requests; the caller waits and retries.
#[async_trait::async_trait]
pub trait ExecutionBackend: Send + Sync {
    /// A short description for messages (`GitHub owner/repo`).
    fn describe(&self) -> String;

    /// The status of the self-hosted runner called `name`.
    async fn runner_status(&self, name: &str) -> Result<RunnerStatus, ProviderError>;

    /// Starts the workflow file `workflow_file` at `git_ref` with `inputs` (sent once: never
    /// retried blindly, a retry could run the action twice).
    async fn dispatch(
        &self,
        workflow_file: &str,
        git_ref: &str,
        inputs: &[(String, String)],
    ) -> Result<(), ProviderError>;

    /// The file at `path` on `git_ref`, or `None` when it does not exist.
    async fn fetch_file(&self, path: &str, git_ref: &str)
    -> Result<Option<Vec<u8>>, ProviderError>;

    /// The newest runs (at most `limit`, newest first) of the workflow file `workflow_file`;
    /// the reaper uses them to tell a busy VM from an idle one. Backends that cannot list runs
    /// keep the default, which says so.
    async fn workflow_runs(
        &self,
        workflow_file: &str,
        limit: u32,
    ) -> Result<Vec<WorkflowRun>, ProviderError> {
        let _ = limit;
        Err(ProviderError::new(
            crate::provider::ErrorClass::Unsupported,
            format!(
                "{} cannot list the runs of {workflow_file}",
                self.describe()
            ),
        ))
    }

    /// What the credentials may do here, read without side effects (`ephflow doctor`).
    /// Backends that cannot tell keep the default, which says so.
    async fn check_access(&self) -> Result<AccessReport, ProviderError> {
        Err(ProviderError::new(
            crate::provider::ErrorClass::Unsupported,
            format!("{} cannot check its access", self.describe()),
        ))
    }

    /// The labels of the self-hosted runner `name`, or `None` when it is not registered.
    /// Backends without runner labels keep the default, which says so.
    async fn runner_labels(&self, name: &str) -> Result<Option<Vec<String>>, ProviderError> {
        Err(ProviderError::new(
            crate::provider::ErrorClass::Unsupported,
            format!(
                "{} cannot list the labels of runner {name}",
                self.describe()
            ),
        ))
    }
}

/// What [`ExecutionBackend::check_access`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccessReport {
    /// Where the credentials came from (GitHub: the variable holding the token), never what
    /// they are.
    pub credential_source: Option<String>,
    /// Whether they may start workflows (`None`: the backend could not tell).
    pub can_dispatch: Option<bool>,
    /// Whether they may list the self-hosted runners.
    pub can_read_runners: bool,
    /// The access the backend reported, for messages (GitHub: the strongest repository
    /// permission, such as `push`).
    pub detail: String,
}

/// What a backend is built from: one ComputeServers entry.
#[derive(Clone)]
pub struct BackendContext {
    /// The entry's name (secrets derive from it: `<Server>_PAT`).
    pub server_name: String,
    /// The entry.
    pub server: ComputeServer,
    /// Where credentials come from.
    pub secrets: Arc<dyn SecretSource>,
}

impl fmt::Debug for BackendContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackendContext")
            .field("server_name", &self.server_name)
            .finish_non_exhaustive()
    }
}

/// A backend being built.
pub type BackendBuildFuture =
    Pin<Box<dyn Future<Output = Result<Box<dyn ExecutionBackend>, ProviderError>> + Send>>;

/// The runner check of the lifecycle engine, answered by a backend.
pub struct BackendRunnerProbe<'a> {
    backend: &'a dyn ExecutionBackend,
    name: String,
}

impl<'a> BackendRunnerProbe<'a> {
    /// Checks the runner `name` on `backend`.
    pub fn new(backend: &'a dyn ExecutionBackend, name: &str) -> Self {
        BackendRunnerProbe {
            backend,
            name: name.to_owned(),
        }
    }
}

#[async_trait::async_trait]
impl RunnerProbe for BackendRunnerProbe<'_> {
    fn runner_name(&self) -> &str {
        &self.name
    }

    async fn is_online(&self) -> Result<bool, ProviderError> {
        Ok(self.backend.runner_status(&self.name).await?.is_online())
    }
}
