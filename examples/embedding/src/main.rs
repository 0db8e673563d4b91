//! ephflow inside another orchestrator, through the library API alone.
//!
//! The orchestrator validates a FaaSr workflow, injects the VM lifecycle actions, and runs the
//! result itself: user actions are stand-ins that print their name, the injected
//! `vm_start` / `vm_poll` / `vm_stop` actions drive a VM through ephflow's lifecycle engine.
//! The VM provider is this program's own ([`SandboxVm`], a VM simulated in memory), handed
//! straight to the engine: nothing is registered with `inventory`, no plugin crate is linked.
//!
//! Usage: `ephflow-example-embedding [WORKFLOW [true|false]]`: the workflow (default: the
//! bundled copy of examples/workflows/ranked.json) and what every conditional action returns
//! (default true).
//!
//! ```sh
//! cargo run -p ephflow-example-embedding
//! cargo run -p ephflow-example-embedding -- examples/workflows/conditional.json false
//! ```
//!
//! Exit codes: 0 the workflow ran, 1 it is invalid, 2 bad arguments, 3 the VM failed.

use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use ephflow_core::graph::Graph;
use ephflow_core::inject::{Options, Strategy, inject};
use ephflow_core::lifecycle::{Event, Lifecycle, Observer, ReadinessPolicy};
use ephflow_core::provider::{CheckStatus, ProviderError, VmProvider, VmState, VmStatus};
use ephflow_core::schema::Document;
use ephflow_core::schema::model::{Branch, Workflow};
use ephflow_core::schema::names::{POLL_FUNCTION, START_FUNCTION, STOP_FUNCTION};
use ephflow_core::validate::validate_document;
use tokio::time::Instant;

/// The workflow run when no path is given.
const BUNDLED: &str = include_str!("../../workflows/ranked.json");

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (name, text) = match args.next() {
        Some(path) => match std::fs::read_to_string(&path) {
            Ok(text) => (path, text),
            Err(e) => {
                eprintln!("error: cannot read {path}: {e}");
                return ExitCode::from(1);
            }
        },
        None => (
            "examples/workflows/ranked.json".to_owned(),
            BUNDLED.to_owned(),
        ),
    };
    let outcome = match args.next().as_deref() {
        None | Some("true") => Branch::True,
        Some("false") => Branch::False,
        Some(other) => {
            eprintln!("error: \"{other}\": the conditional outcome is true or false");
            return ExitCode::from(2);
        }
    };
    match orchestrate(&name, &text, outcome).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
        Err(Failure::Vm(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(3)
        }
    }
}

enum Failure {
    /// The workflow cannot run (invalid, or beyond this sketch).
    Invalid(String),
    /// The VM did not do what it should.
    Vm(String),
}

async fn orchestrate(name: &str, text: &str, outcome: Branch) -> Result<(), Failure> {
    // 1. Validate: the JSON Schema and the semantic rules, every problem at once.
    let doc = Document::parse(text).map_err(|e| Failure::Invalid(format!("{name}: {e}")))?;
    let report = validate_document(&doc).map_err(|e| Failure::Invalid(e.to_string()))?;
    // ephflow's registry holds the providers linked into this program: none. This
    // orchestrator drives every VM with its own provider, so the registry's verdict on
    // `Provider` does not apply; every other finding does.
    let (ours, theirs): (Vec<_>, Vec<_>) = report
        .diagnostics
        .iter()
        .partition(|d| d.code == "unknown-provider");
    for d in &theirs {
        eprintln!("{name}: {d}");
    }
    let workflow = match report.workflow {
        Some(w) if !theirs.iter().any(|d| d.is_error()) => w,
        _ => return Err(Failure::Invalid(format!("{name} is not a valid workflow"))),
    };
    let Some(vm) = &workflow.vm_config else {
        return Err(Failure::Invalid(format!(
            "{name} has no VMConfig: no VM to run"
        )));
    };
    println!(
        "validated {}: {} actions, {} on the VM (Provider \"{}\"{})",
        workflow.workflow_name,
        workflow.action_list.len(),
        workflow.vm_actions().count(),
        vm.provider,
        if ours.is_empty() {
            ""
        } else {
            ", driven by this orchestrator's own provider"
        },
    );

    // 2. Inject the lifecycle actions; `apply` keeps the document's key order and unknown
    // keys, so the result could be written back for FaaSr as it is.
    let augmented = inject(&workflow, Strategy::Parallel, &Options::default())
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    let added: Vec<&str> = augmented.actions.keys().map(String::as_str).collect();
    let augmented = augmented
        .apply(doc)
        .workflow()
        .map_err(|e| Failure::Invalid(e.to_string()))?;
    println!(
        "augmented: entry {}, added {}",
        augmented.function_invoke,
        added.join(", ")
    );

    // 3. Run it, with the VM driven through the lifecycle engine.
    let sandbox = SandboxVm::new(&vm.name, Duration::from_millis(300));
    let policy = ReadinessPolicy {
        initial_interval: Duration::from_millis(20),
        max_interval: Duration::from_millis(100),
        status_timeout: Duration::from_secs(10),
        ..ReadinessPolicy::for_config(vm)
    };
    let engine = Lifecycle::new(&sandbox, policy, &PrintPhases);
    run_actions(&augmented, &engine, outcome).await?;

    println!(
        "done: {} start and {} stop request(s); VM {}",
        sandbox.starts.load(Ordering::Relaxed),
        sandbox.stops.load(Ordering::Relaxed),
        engine.status().await.map_err(vm_failure)?.state
    );
    Ok(())
}

/// Runs the workflow one action at a time, in a topological order, with FaaSr's rule: an
/// action runs once every action that invokes it has run and taken the edge to it (a
/// conditional action takes its `outcome` branch); each rank of a ranked action runs in turn.
async fn run_actions(
    workflow: &Workflow,
    engine: &Lifecycle<'_>,
    outcome: Branch,
) -> Result<(), Failure> {
    let graph = Graph::build(workflow);
    let order = graph
        .topological_order()
        .map_err(|_| Failure::Invalid("the workflow has a cycle".to_owned()))?;
    let mut ran = vec![false; graph.len()];
    for node in order {
        let name = graph.name(node);
        let edges = graph.in_edges(node);
        let triggered = if edges.is_empty() {
            name == workflow.function_invoke
        } else {
            edges
                .iter()
                .all(|e| ran[e.from] && e.branch.is_none_or(|b| b == outcome))
        };
        if !triggered {
            continue;
        }
        ran[node] = true;
        let action = &workflow.action_list[name];
        if action.is_builtin() {
            let what = action.function_name.as_str();
            let done = match what {
                START_FUNCTION => {
                    let o = engine.start().await.map_err(vm_failure)?;
                    if o.requested {
                        "start requested"
                    } else {
                        "already starting or running"
                    }
                }
                POLL_FUNCTION => {
                    engine.wait_ready().await.map_err(vm_failure)?;
                    "ready"
                }
                STOP_FUNCTION => {
                    let o = engine.stop().await.map_err(vm_failure)?;
                    if o.requested {
                        "stop requested"
                    } else {
                        "already stopping or stopped"
                    }
                }
                other => {
                    return Err(Failure::Invalid(format!("{name}: unknown builtin {other}")));
                }
            };
            println!("{name} ({what}): VM {done}");
            continue;
        }
        let ranks = edges.iter().filter_map(|e| e.rank).max().unwrap_or(1);
        for rank in 1..=ranks {
            let label = if ranks > 1 {
                format!("{name}({rank}/{ranks})")
            } else {
                name.to_owned()
            };
            let returned = if graph.out_edges(node).iter().any(|e| e.branch.is_some()) {
                format!(", returned {outcome}")
            } else {
                String::new()
            };
            if !action.requires_vm() {
                println!("{label}: ran{returned}");
                continue;
            }
            // The injected poll must have made the VM ready before any VM action runs.
            let status = engine.status().await.map_err(vm_failure)?;
            if !status.is_healthy() {
                return Err(Failure::Vm(format!(
                    "{label} needs the VM, but it is {}",
                    status.state
                )));
            }
            println!("{label}: ran on the VM{returned}");
        }
    }
    Ok(())
}

fn vm_failure(e: impl std::fmt::Display) -> Failure {
    Failure::Vm(e.to_string())
}

/// Prints the lifecycle engine's phases as they happen.
struct PrintPhases;

impl Observer for PrintPhases {
    fn event(&self, event: &Event) {
        match event {
            Event::Phase {
                phase,
                state: Some(state),
                ..
            } => println!("  phase {phase} (VM {state})"),
            Event::Phase { .. } => {}
            Event::Retrying { message, .. } => println!("  retrying: {message}"),
        }
    }
}

/// This orchestrator's VM provider: a VM simulated in memory that boots `boot` after a start
/// request and shuts down as long after a stop request. A real one would call a cloud API in
/// each method: one request each, no waiting (the engine waits, retries and bounds).
struct SandboxVm {
    id: String,
    boot: Duration,
    state: Mutex<(VmState, Instant)>,
    starts: AtomicU32,
    stops: AtomicU32,
}

impl SandboxVm {
    fn new(id: &str, boot: Duration) -> Self {
        SandboxVm {
            id: id.to_owned(),
            boot,
            state: Mutex::new((VmState::Stopped, Instant::now())),
            starts: AtomicU32::new(0),
            stops: AtomicU32::new(0),
        }
    }

    /// Moves from `from` to `to`; in any other state there is nothing to do (the engine
    /// sends a start only to a stopped VM and a stop only to a running one anyway).
    fn transition(&self, from: VmState, to: VmState) {
        let mut state = self.state.lock().expect("not poisoned");
        if state.0 == from {
            *state = (to, Instant::now());
        }
    }
}

#[async_trait::async_trait]
impl VmProvider for SandboxVm {
    fn vm_id(&self) -> &str {
        &self.id
    }

    async fn describe(&self) -> Result<VmStatus, ProviderError> {
        let mut state = self.state.lock().expect("not poisoned");
        if state.1.elapsed() >= self.boot {
            state.0 = match state.0 {
                VmState::Pending => VmState::Running,
                VmState::Stopping => VmState::Stopped,
                other => other,
            };
        }
        let checks = if state.0 == VmState::Running {
            CheckStatus::Ok
        } else {
            CheckStatus::NotApplicable
        };
        Ok(VmStatus {
            state: state.0,
            instance_check: checks,
            system_check: checks,
        })
    }

    async fn start(&self) -> Result<(), ProviderError> {
        self.starts.fetch_add(1, Ordering::Relaxed);
        self.transition(VmState::Stopped, VmState::Pending);
        Ok(())
    }

    async fn stop(&self) -> Result<(), ProviderError> {
        self.stops.fetch_add(1, Ordering::Relaxed);
        self.transition(VmState::Running, VmState::Stopping);
        Ok(())
    }

    async fn preflight(&self) -> Result<(), ProviderError> {
        Ok(())
    }
}
