//! The injected lifecycle actions run natively (`ephflow action run`, or embedded): FaaSr's
//! action protocol around the lifecycle engine.
//!
//! One run: read `PAYLOAD_URL` and `OVERWRITTEN` ([`payload`]), fetch the workflow JSON from
//! the repository ([`fetch_workflow`]), validate it, merge OVERWRITTEN, find the action and
//! refuse anything but a `_faasr_builtin` vm_* action ([`prepare`]); then
//! ([`PreparedAction::run`]) the fan-in check ([`completions`]), the lifecycle operation, the
//! completion marker, and the dispatch of the next actions ([`dispatch`]).

pub mod completions;
pub mod dispatch;
pub mod invocation;
pub mod payload;
pub mod store;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ephflow_schema::model::{ComputeServer, DataStore, FaaSType, Workflow};
use ephflow_schema::names::{POLL_FUNCTION, START_FUNCTION, STOP_FUNCTION};
use ephflow_schema::{Diagnostic, Document};
use serde_json::{Map, Value};

use crate::backend::{BackendContext, BackendRunnerProbe, ExecutionBackend};
use crate::graph::Graph;
use crate::lifecycle::{Lifecycle, LifecycleError, Observer, Outcome, ReadinessPolicy};
use crate::provider::{BuildContext, ErrorClass, ProviderError, SecretSource};
use crate::registry::{self, RegistryError};

pub use completions::{Completions, FanIn};
pub use dispatch::NextDispatch;
pub use invocation::Invocation;
pub use payload::PayloadUrl;
pub use store::{CompletionStore, Created};

/// Why a builtin action could not run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// The inputs or the workflow are wrong; nothing was changed.
    #[error("{message}")]
    Input {
        /// What is wrong and what to do.
        message: String,
    },
    /// The fetched workflow does not validate.
    #[error("the workflow at {url} is invalid ({} errors): {}", diagnostics.len(), first_message(diagnostics))]
    InvalidWorkflow {
        /// Its PAYLOAD_URL.
        url: String,
        /// Every error.
        diagnostics: Vec<Diagnostic>,
    },
    /// A store, backend or provider request failed.
    #[error("{what}: {source}")]
    Cloud {
        /// What was being done.
        what: String,
        /// The classified failure.
        source: ProviderError,
    },
    /// The lifecycle operation failed.
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    /// The plugin registry is broken (two plugins of one kind).
    #[error(transparent)]
    Registry(#[from] RegistryError),
}

fn first_message(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .first()
        .map(|d| format!("{} {}", d.pointer, d.message))
        .unwrap_or_default()
}

impl ActionError {
    /// An invalid-input error.
    pub fn input(message: impl Into<String>) -> Self {
        ActionError::Input {
            message: message.into(),
        }
    }

    /// The classification, for retry decisions and exit codes.
    pub fn class(&self) -> ErrorClass {
        match self {
            ActionError::Input { .. } | ActionError::InvalidWorkflow { .. } => {
                ErrorClass::InvalidInput
            }
            ActionError::Cloud { source, .. } => source.class,
            ActionError::Lifecycle(e) => e.class(),
            ActionError::Registry(_) => ErrorClass::Unsupported,
        }
    }
}

/// The three lifecycle actions, by `FunctionName`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Builtin {
    /// `vm_start`: request the VM's start (returns at once).
    Start,
    /// `vm_poll`: wait until the VM runs and its runner is online, starting it again if it
    /// was stopped meanwhile.
    Poll,
    /// `vm_stop`: request the VM's stop.
    Stop,
}

impl Builtin {
    /// The FunctionName.
    pub fn function_name(self) -> &'static str {
        match self {
            Builtin::Start => START_FUNCTION,
            Builtin::Poll => POLL_FUNCTION,
            Builtin::Stop => STOP_FUNCTION,
        }
    }
}

/// The inputs of an action job.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionInputs {
    /// Where the workflow JSON is.
    pub payload_url: PayloadUrl,
    /// The run-time fields.
    pub overwritten: Map<String, Value>,
}

impl ActionInputs {
    /// Parses the `PAYLOAD_URL` and `OVERWRITTEN` values (as found in the environment).
    pub fn parse(
        payload_url: Option<&str>,
        overwritten: Option<&str>,
    ) -> Result<Self, ActionError> {
        let payload_url = payload_url.filter(|u| !u.trim().is_empty()).ok_or_else(|| {
            ActionError::input(
                "PAYLOAD_URL is not set: `ephflow action run` runs inside a builtin action's job, which GitHub starts with the PAYLOAD_URL and OVERWRITTEN inputs",
            )
        })?;
        let overwritten = overwritten.ok_or_else(|| {
            ActionError::input(
                "OVERWRITTEN is not set: it names the action to run ({\"FunctionInvoke\": \"faasr-vm-start\"}); dispatch the job with `ephflow invoke` or FaaSr",
            )
        })?;
        Ok(ActionInputs {
            payload_url: payload_url.parse()?,
            overwritten: payload::parse_overwritten(overwritten)?,
        })
    }
}

/// A GitHubActions server for the repository of `url` (to fetch the workflow before it is
/// known). `server_name` picks the token (`<server_name>_PAT`, then `GH_PAT`, `GITHUB_TOKEN`).
pub fn payload_server(
    url: &PayloadUrl,
    server_name: &str,
    secrets: Arc<dyn SecretSource>,
) -> BackendContext {
    let server: ComputeServer = serde_json::from_value(serde_json::json!({
        "FaaSType": "GitHubActions",
        "UserName": url.owner,
        "ActionRepoName": url.repo,
        "Branch": url.branch,
    }))
    .expect("a GitHubActions server from strings");
    BackendContext {
        server_name: server_name.to_owned(),
        server,
        secrets,
    }
}

/// The pauses before the second and third try of a read of the repository (reads are safe to
/// repeat).
pub const READ_PAUSES: [Duration; 2] = [Duration::from_secs(2), Duration::from_secs(5)];

/// Fetches the workflow JSON named by `url` through `backend` (transient failures get two more
/// tries, [`READ_PAUSES`] apart).
pub async fn fetch_workflow(
    backend: &dyn ExecutionBackend,
    url: &PayloadUrl,
) -> Result<Document, ActionError> {
    let bytes = crate::retry::transient(
        &READ_PAUSES,
        || backend.fetch_file(&url.path, &url.branch),
        |_, _| {},
    )
    .await
    .map_err(|source| ActionError::Cloud {
        what: format!("fetching the workflow {url}"),
        source,
    })?
    .ok_or_else(|| {
        ActionError::input(format!(
            "the workflow JSON {} is not on {}/{}@{}: commit it there (PAYLOAD_URL names it)",
            url.path, url.owner, url.repo, url.branch
        ))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| ActionError::input(format!("the workflow at {url} is not UTF-8 text")))?;
    Document::parse(&text)
        .map_err(|e| ActionError::input(format!("the workflow at {url} is not a workflow: {e}")))
}

/// A builtin action ready to run.
#[derive(Debug, Clone)]
pub struct PreparedAction {
    /// The workflow, OVERWRITTEN merged.
    pub workflow: Workflow,
    /// The action (`FunctionInvoke`).
    pub action: String,
    /// Which lifecycle action it is.
    pub builtin: Builtin,
    /// This run of the workflow.
    pub invocation: Invocation,
    /// Where the workflow came from (passed on to the next actions).
    pub payload_url: PayloadUrl,
    incoming: Map<String, Value>,
}

/// Validates the fetched workflow (as committed), merges OVERWRITTEN, finds the action and
/// checks that it is a builtin; the entry creates the invocation's ID and timestamp (`now`,
/// `new_id`) when empty.
pub fn prepare(
    doc: Document,
    inputs: ActionInputs,
    now: DateTime<Utc>,
    new_id: impl FnOnce() -> String,
) -> Result<PreparedAction, ActionError> {
    let report = crate::validate::validate_document(&doc)?;
    if !report.is_valid() {
        return Err(ActionError::InvalidWorkflow {
            url: inputs.payload_url.to_string(),
            diagnostics: report
                .diagnostics
                .into_iter()
                .filter(Diagnostic::is_error)
                .collect(),
        });
    }
    let committed = report.workflow.expect("a valid report has the workflow");
    let mut value = doc.into_value();
    let object = value.as_object_mut().expect("a document is an object");
    payload::merge(object, &inputs.overwritten);
    let mut workflow = Workflow::from_value(&value)
        .map_err(|e| ActionError::input(format!("OVERWRITTEN does not fit the workflow: {e}")))?;
    // The run-time fields may change; the graph, the servers and the stores may not (every
    // action reads the same file, and fan-in needs every marker in one place).
    for field in [
        "ActionList",
        "ComputeServers",
        "VMConfig",
        "DataStores",
        "DefaultDataStore",
    ] {
        if inputs.overwritten.contains_key(field) {
            return Err(ActionError::input(format!(
                "OVERWRITTEN replaces {field}, which would make this action's view of the workflow differ from the others'; change the committed workflow instead"
            )));
        }
    }
    workflow.keep_unknown_keys(&value);
    let action = workflow.function_invoke.clone();
    let Some(entry) = workflow.action_list.get(&action) else {
        return Err(ActionError::input(format!(
            "OVERWRITTEN.FunctionInvoke \"{action}\" is not an action of {}",
            inputs.payload_url
        )));
    };
    let builtin = match (entry.is_builtin(), entry.function_name.as_str()) {
        (true, START_FUNCTION) => Builtin::Start,
        (true, POLL_FUNCTION) => Builtin::Poll,
        (true, STOP_FUNCTION) => Builtin::Stop,
        _ => {
            return Err(ActionError::input(format!(
                "\"{action}\" (FunctionName {}) is not a lifecycle action (_faasr_builtin vm_start, vm_poll or vm_stop); `ephflow action run` runs only those: run user actions in FaaSr's container",
                entry.function_name
            )));
        }
    };
    if workflow.vm_config.is_none() {
        return Err(ActionError::input(format!(
            "{} has no VMConfig, so \"{action}\" has no VM to drive",
            inputs.payload_url
        )));
    }
    let is_entry = action == committed.function_invoke;
    let invocation = invocation::resolve(&workflow, is_entry, now, new_id)?;
    Ok(PreparedAction {
        workflow,
        action,
        builtin,
        invocation,
        payload_url: inputs.payload_url,
        incoming: inputs.overwritten,
    })
}

/// What a run did.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The lifecycle operation ran, the marker was written and the next actions dispatched.
    Ran {
        /// The lifecycle operation's outcome.
        lifecycle: Outcome,
        /// The marker written.
        marker: String,
        /// The dispatches sent, in order.
        dispatched: Vec<NextDispatch>,
    },
    /// Not every predecessor has finished: the last one's invocation runs the action.
    Waiting {
        /// The first missing marker.
        missing: String,
    },
    /// Another invocation of this fan-in runs the action.
    Lost,
}

/// What a run needs besides the workflow.
pub struct RunContext<'a> {
    /// The DefaultDataStore.
    pub store: &'a dyn CompletionStore,
    /// Credentials of the provider and the backends.
    pub secrets: Arc<dyn SecretSource>,
    /// Progress of the lifecycle operation.
    pub observer: &'a dyn Observer,
    /// Who claims a fan-in (unique per job; the same across re-runs of one job).
    pub claim_token: String,
    /// Readiness bounds (start from [`ReadinessPolicy::for_config`]).
    pub policy: ReadinessPolicy,
}

impl PreparedAction {
    /// The DefaultDataStore's name and entry.
    pub fn data_store(&self) -> Result<(&str, &DataStore), ActionError> {
        let name = self.workflow.default_data_store.as_str();
        self.workflow
            .data_stores
            .get(name)
            .map(|s| (name, s))
            .ok_or_else(|| {
                ActionError::input(format!("DefaultDataStore \"{name}\" is not in DataStores"))
            })
    }

    /// The invocation's markers.
    pub fn completions(&self) -> Completions {
        Completions::new(&self.workflow, &self.invocation)
    }

    /// Runs the action: fan-in, lifecycle operation, marker, dispatches. A failure after the
    /// lifecycle operation leaves no marker; a dispatch failure names what was sent already.
    pub async fn run(&self, ctx: RunContext<'_>) -> Result<RunOutcome, ActionError> {
        // Planned and checked first: a dispatch that could not be sent must not follow a VM
        // operation.
        let plan = dispatch::plan(
            &self.workflow,
            &self.action,
            &self.incoming,
            &self.invocation,
        )?;
        for next in &plan {
            dispatch::check_no_secrets(&self.workflow, ctx.secrets.as_ref(), &next.overwritten)?;
        }
        let completions = self.completions();
        let expected = completions::expected_markers(&self.workflow, &completions, &self.action);
        let claim = completions.claim_key(&self.action);
        match completions::fan_in(ctx.store, &expected, &claim, &ctx.claim_token).await? {
            FanIn::Proceed => {}
            FanIn::Waiting { missing } => return Ok(RunOutcome::Waiting { missing }),
            FanIn::Lost => return Ok(RunOutcome::Lost),
        }
        let lifecycle = self.lifecycle(&ctx).await?;
        let marker = completions.done_key(&self.action, None);
        completions::mark_done(ctx.store, &marker).await?;
        let mut backends: HashMap<String, Box<dyn ExecutionBackend>> = HashMap::new();
        let mut dispatched = Vec::new();
        for next in plan {
            if !backends.contains_key(&next.server_name) {
                let backend = self.backend(&next.server_name, ctx.secrets.clone()).await?;
                backends.insert(next.server_name.clone(), backend);
            }
            let backend = &backends[&next.server_name];
            let inputs = vec![
                ("OVERWRITTEN".to_owned(), next.overwritten.clone()),
                ("PAYLOAD_URL".to_owned(), self.payload_url.to_string()),
            ];
            if let Err(source) = backend
                .dispatch(&next.workflow_file, &next.git_ref, &inputs)
                .await
            {
                let sent: Vec<String> = dispatched.iter().map(describe_dispatch).collect();
                return Err(ActionError::Cloud {
                    what: format!(
                        "dispatching {} (after the VM operation and the marker; already dispatched: {})",
                        describe_dispatch(&next),
                        if sent.is_empty() {
                            "none".to_owned()
                        } else {
                            sent.join(", ")
                        }
                    ),
                    source,
                });
            }
            dispatched.push(next);
        }
        Ok(RunOutcome::Ran {
            lifecycle,
            marker,
            dispatched,
        })
    }

    async fn lifecycle(&self, ctx: &RunContext<'_>) -> Result<Outcome, ActionError> {
        let config = self.workflow.vm_config.clone().expect("checked in prepare");
        let provider = registry::build(BuildContext {
            config: config.clone(),
            secrets: ctx.secrets.clone(),
        })
        .await
        .map_err(|source| ActionError::Cloud {
            what: format!("VMConfig \"{}\"", config.name),
            source,
        })?;
        let engine = Lifecycle::new(provider.as_ref(), ctx.policy.clone(), ctx.observer);
        Ok(match self.builtin {
            Builtin::Start => engine.start().await?,
            Builtin::Stop => engine.stop().await?,
            // The poll heals: a VM stopped (or stopping) since vm_start ran (reaped, or
            // stopped by another invocation of the workflow) is started again first.
            Builtin::Poll => match (&config.runner_name, self.runner_server()) {
                (Some(runner), Some(server)) => {
                    let backend = self.backend(&server, ctx.secrets.clone()).await?;
                    let probe = BackendRunnerProbe::new(backend.as_ref(), runner);
                    engine.with_runner(&probe).start_and_wait().await?
                }
                _ => engine.start_and_wait().await?,
            },
        })
    }

    /// The server of the VM action this poll guards: its repository holds the runner.
    fn runner_server(&self) -> Option<String> {
        let graph = Graph::build(&self.workflow);
        let id = graph.id(&self.action)?;
        graph
            .out_edges(id)
            .iter()
            .map(|e| self.workflow.action_list[e.to].faas_server.clone())
            .find(|s| {
                self.workflow
                    .compute_servers
                    .get(s)
                    .is_some_and(|c| c.faas_type == FaaSType::GitHubActions)
            })
    }

    async fn backend(
        &self,
        server_name: &str,
        secrets: Arc<dyn SecretSource>,
    ) -> Result<Box<dyn ExecutionBackend>, ActionError> {
        let server = self.workflow.compute_servers[server_name].clone();
        registry::build_backend(BackendContext {
            server_name: server_name.to_owned(),
            server,
            secrets,
        })
        .await
        .map_err(|source| ActionError::Cloud {
            what: format!("ComputeServers \"{server_name}\""),
            source,
        })
    }
}

fn describe_dispatch(d: &NextDispatch) -> String {
    match d.rank {
        Some(r) => format!("\"{}\" rank {r}", d.action),
        None => format!("\"{}\"", d.action),
    }
}
