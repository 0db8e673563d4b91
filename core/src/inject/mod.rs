//! Injection: adds the VM lifecycle actions to a workflow.
//!
//! `faasr-vm-start` becomes the entry and starts the VM; `faasr-vm-poll-<X>` (parallel) or one
//! `faasr-vm-poll` (sequential) holds VM actions until the VM is ready; `faasr-vm-stop`
//! actions end every execution. Names, FunctionNames and fields follow FaaSr's reference tool
//! so FaaSr's runtime runs the result; the wiring fixes the reference's mistakes (ranks, mixed
//! InvokeNext lists, stops after exclusive branches).
//!
//! ```
//! use ephflow_core::inject::{inject, Options, Strategy};
//! use ephflow_schema::Document;
//!
//! let doc = Document::parse(r#"{
//!     "WorkflowName": "demo", "FunctionInvoke": "prepare", "DefaultDataStore": "S3",
//!     "ComputeServers": {"GH": {"FaaSType": "GitHubActions", "UserName": "me", "ActionRepoName": "actions"}},
//!     "DataStores": {"S3": {"Bucket": "data"}},
//!     "VMConfig": {"Name": "VM", "Provider": "AWS", "InstanceId": "i-0123456789abcdef0", "Region": "us-east-1"},
//!     "ActionList": {
//!         "prepare": {"FunctionName": "prepare", "FaaSServer": "GH", "InvokeNext": ["train(2)"]},
//!         "train": {"FunctionName": "train", "FaaSServer": "GH", "RequiresVM": true}
//!     },
//!     "ActionContainers": {"prepare": "ghcr.io/faasr/github-actions-python:latest"}
//! }"#).unwrap();
//! let workflow = doc.workflow().unwrap();
//! let augmented = inject(&workflow, Strategy::Parallel, &Options::default()).unwrap();
//! let out = augmented.apply(doc);
//! let actions = &out.value()["ActionList"];
//! assert_eq!(out.value()["FunctionInvoke"], "faasr-vm-start");
//! assert_eq!(actions["prepare"]["InvokeNext"], serde_json::json!(["faasr-vm-poll-train"]));
//! assert_eq!(actions["faasr-vm-poll-train"]["InvokeNext"], serde_json::json!(["train(2)"]));
//! assert_eq!(actions["train"]["InvokeNext"], serde_json::json!(["faasr-vm-stop"]));
//! ```

mod apply;
mod gating;
pub mod teardown;
pub mod verify;

use ephflow_schema::Diagnostic;
use ephflow_schema::model::{Action, ActionType, Branch, FaaSType, InvokeNext, Workflow};
use ephflow_schema::names::{self, INJECTED_POLL, INJECTED_START, INJECTED_STOP};
use indexmap::IndexMap;

use crate::graph::Graph;
use crate::scenarios::{self, DEFAULT_SCENARIO_LIMIT, TooManyScenarios};
pub use teardown::PlannedStop;

/// How VM actions wait for the VM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// Start the VM at the entry without waiting; each VM action waits at its own poll while
    /// the rest of the workflow runs.
    #[default]
    Parallel,
    /// Start the VM and wait for it (one poll) before anything else runs.
    Sequential,
}

impl Strategy {
    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Parallel => "parallel",
            Strategy::Sequential => "sequential",
        }
    }
}

/// Injection settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Container image for the injected actions; overrides the one taken from the workflow.
    pub builtin_image: Option<String>,
    /// Cap on the number of distinct executions analysed for stop placement.
    pub scenario_limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            builtin_image: None,
            scenario_limit: DEFAULT_SCENARIO_LIMIT,
        }
    }
}

/// Why a workflow cannot be augmented.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InjectError {
    /// The workflow already contains injected actions.
    #[error(
        "the workflow is already augmented: it has the injected action \"{action}\"; augment the original workflow instead"
    )]
    AlreadyAugmented {
        /// An injected (or builtin) action found.
        action: String,
    },
    /// No GitHubActions server to run the lifecycle actions on.
    #[error(
        "no GitHubActions compute server: the lifecycle actions run on GitHub Actions; add one to ComputeServers"
    )]
    NoGitHubServer,
    /// No image for the lifecycle actions.
    #[error(
        "no container image for the lifecycle actions: no action on server \"{server}\" has an ActionContainers entry; pass --builtin-image IMAGE (for example ghcr.io/faasr/github-actions-python:latest)"
    )]
    NoImage {
        /// The GitHubActions server the lifecycle actions run on.
        server: String,
    },
    /// The graph has a cycle or the entry is unknown: validate first.
    #[error("the workflow is not a valid DAG with a known entry; run `ephflow validate` first")]
    InvalidGraph,
    /// Too many executions to place stops.
    #[error(
        "{0}; ephflow places one vm_stop per distinct way the workflow can end and cannot analyse this many; reduce independent conditionals"
    )]
    TooManyScenarios(#[from] TooManyScenarios),
}

/// The changes that augment a workflow. Apply them with [`Augmented::apply`] (keeps the
/// document's key order and unknown keys) or [`Augmented::apply_to_workflow`].
#[derive(Debug, Clone, PartialEq)]
pub struct Augmented {
    /// The strategy used.
    pub strategy: Strategy,
    /// The new `FunctionInvoke` (the start action), `None` when nothing is injected.
    pub entry: Option<String>,
    /// New `InvokeNext` values of original actions, in ActionList order.
    pub invoke_next: IndexMap<String, InvokeNext>,
    /// Injected actions, in the order they are appended: start, stops, polls.
    pub actions: IndexMap<String, Action>,
    /// New `ActionContainers` entries: polls, then start and stops (the reference tool's order).
    pub containers: IndexMap<String, String>,
    /// The VM actions that now wait for the VM.
    pub gated: Vec<String>,
    /// The stops and the executions each covers.
    pub stops: Vec<PlannedStop>,
    /// Problems that do not stop injection (executions left without a stop).
    pub warnings: Vec<Diagnostic>,
    /// The executions left without a stop, each as its conditional outcomes
    /// (action name, branch).
    pub uncovered: Vec<Vec<(String, Branch)>>,
}

impl Augmented {
    /// Whether the workflow has no VM action, so nothing changes.
    pub fn is_unchanged(&self) -> bool {
        self.entry.is_none()
    }
}

/// Computes the augmentation of a valid workflow (see [`crate::validate`]).
pub fn inject(
    workflow: &Workflow,
    strategy: Strategy,
    options: &Options,
) -> Result<Augmented, InjectError> {
    if let Some((name, _)) = workflow
        .action_list
        .iter()
        .find(|(n, a)| a.is_builtin() || names::is_injected_name(n))
    {
        return Err(InjectError::AlreadyAugmented {
            action: name.clone(),
        });
    }
    let mut out = Augmented {
        strategy,
        entry: None,
        invoke_next: IndexMap::new(),
        actions: IndexMap::new(),
        containers: IndexMap::new(),
        gated: Vec::new(),
        stops: Vec::new(),
        warnings: Vec::new(),
        uncovered: Vec::new(),
    };
    if workflow.vm_actions().next().is_none() {
        return Ok(out);
    }

    let (server, image) = lifecycle_home(workflow, options)?;
    let graph = Graph::build(workflow);
    let entry = graph
        .id(&workflow.function_invoke)
        .ok_or(InjectError::InvalidGraph)?;
    let order = graph
        .topological_order()
        .map_err(|_| InjectError::InvalidGraph)?;
    let mut conditions = graph.run_conditions(&order);
    let scenarios = scenarios::enumerate(&graph, &order, &conditions, options.scenario_limit)?;
    let teardown = teardown::plan(&graph, &order, &mut conditions, &scenarios, INJECTED_STOP)?;

    let builtin = |function: &str, next: Vec<String>| Action {
        function_name: function.to_owned(),
        faas_server: server.clone(),
        kind: Some(ActionType::Python),
        arguments: None,
        invoke_next: Some(InvokeNext::List(
            next.iter().map(|n| gating::item(n)).collect(),
        )),
        requires_vm: Some(false),
        faasr_builtin: Some(true),
        max_memory: None,
        max_runtime: None,
        max_storage: None,
        resources: None,
    };

    let wiring = gating::wire(workflow, &graph, entry, strategy, &teardown.stops);
    out.actions.insert(
        INJECTED_START.to_owned(),
        builtin(names::START_FUNCTION, vec![wiring.start_next.clone()]),
    );
    for stop in &teardown.stops {
        out.actions
            .insert(stop.name.clone(), builtin(names::STOP_FUNCTION, Vec::new()));
    }
    for (poll, next) in &wiring.polls {
        let mut action = builtin(names::POLL_FUNCTION, Vec::new());
        action.invoke_next = Some(InvokeNext::List(vec![next.clone()]));
        out.actions.insert(poll.clone(), action);
    }
    // FaaSr's reference tool lists the polls' containers before start and stop; same order
    // here, so its correct outputs are reproduced byte for byte.
    let (polls, others): (Vec<&String>, Vec<&String>) = out
        .actions
        .keys()
        .partition(|n| n.starts_with(INJECTED_POLL));
    // An entry the workflow already has for an injected name pins that action's image: kept,
    // never overwritten (found by fuzzing: a stale entry copied from an augmented file was
    // silently replaced).
    let pinned = |name: &str| {
        workflow
            .action_containers
            .as_ref()
            .is_some_and(|c| c.contains_key(name))
    };
    for name in polls.into_iter().chain(others) {
        if !pinned(name) {
            out.containers.insert(name.clone(), image.clone());
        }
    }
    out.entry = Some(INJECTED_START.to_owned());
    out.invoke_next = wiring.invoke_next;
    out.gated = wiring.gated;
    out.stops = teardown.stops;
    out.warnings = teardown.warnings;
    out.uncovered = teardown
        .uncovered
        .iter()
        .map(|path| {
            path.iter()
                .map(|&(n, b)| (graph.name(n).to_owned(), b))
                .collect()
        })
        .collect();
    Ok(out)
}

/// The server the lifecycle actions run on (the first GitHubActions server, as FaaSr's
/// reference tool does) and their image.
fn lifecycle_home(workflow: &Workflow, options: &Options) -> Result<(String, String), InjectError> {
    let server = workflow
        .compute_servers
        .iter()
        .find(|(_, s)| s.faas_type == FaaSType::GitHubActions)
        .map(|(n, _)| n.clone())
        .ok_or(InjectError::NoGitHubServer)?;
    if let Some(image) = &options.builtin_image {
        return Ok((server, image.clone()));
    }
    let containers = workflow.action_containers.as_ref();
    let image = workflow
        .action_list
        .iter()
        .filter(|(_, a)| a.faas_server == server)
        .find_map(|(n, _)| containers.and_then(|c| c.get(n)))
        .map(|image| image.0.clone())
        .ok_or_else(|| InjectError::NoImage {
            server: server.clone(),
        })?;
    Ok((server, image))
}
