//! `ephflow vm`: drive the workflow's VM by hand or from a CI step.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};

use super::progress::Progress;
use super::stdout::outln;
use ephflow::core::backend::{BackendContext, BackendRunnerProbe, ExecutionBackend};
use ephflow::core::lifecycle::{Lifecycle, LifecycleError, Outcome, ReadinessPolicy};
use ephflow::core::provider::{BuildContext, EnvSecrets, ErrorClass, VmProvider, VmStatus};
use ephflow::exit::Exit;
use ephflow::schema::model::{FaaSType, VmConfig};
use serde_json::json;

/// Show, start, wait for or stop the VM a workflow's VMConfig describes.
///
/// Credentials: `<Name>_AccessKey` / `<Name>_SecretKey` (Name from VMConfig), else (AWS, in a
/// GitHub Actions job with `id-token: write`) `VMConfig.RoleArn` assumed with the job's OIDC
/// token, else the provider's standard chain (AWS: environment, profile, web identity,
/// instance metadata).
/// Endpoint override for EC2-compatible clouds and tests: `AWS_ENDPOINT_URL_EC2`.
/// Exit codes: 0 done, 1 invalid workflow or configuration, 3 cloud failure, 4 timeout, 5 the
/// workflow file cannot be read.
#[derive(Debug, Args)]
pub struct VmArgs {
    #[command(subcommand)]
    action: VmAction,
}

#[derive(Debug, Subcommand)]
enum VmAction {
    /// Print the VM's state and health checks.
    Status(Common),
    /// Start the VM (nothing to do if it runs or is booting); --wait also waits until ready.
    Start {
        #[command(flatten)]
        common: Common,
        /// Wait until the VM is ready, as `vm poll` does.
        #[arg(long)]
        wait: bool,
        #[command(flatten)]
        limits: WaitLimits,
    },
    /// Wait until the VM is ready for VM actions: running, and its runner online (VMConfig
    /// RunnerName, checked on the first GitHubActions server with `<Server>_PAT`, `GH_PAT` or
    /// `GITHUB_TOKEN`; `GITHUB_API_URL` for GitHub Enterprise), or its health checks ok when
    /// there is no runner check.
    Poll {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        limits: WaitLimits,
    },
    /// Stop the VM (nothing to do if it is stopped or stopping).
    Stop(Common),
    /// Check, without changing anything, that the credentials may describe, start and stop
    /// the VM.
    Preflight(Common),
    /// Stop the VM when nothing uses it: never while its runner is busy or a VM job (a VM
    /// action or a poll) is queued or running; otherwise once it has run longer than the max
    /// lifetime, or its runner has been online and idle for longer than the idle time.
    Reap(super::reap::ReapArgs),
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["workflow", "file"])))]
struct Common {
    /// The workflow whose VMConfig describes the VM.
    #[arg(long, short, value_name = "FILE")]
    workflow: Option<PathBuf>,
    /// The same, as a positional argument (like every other command's FILE).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: OutputFormat,
}

/// The bounds of a readiness wait; only the commands that wait take them (status, stop and
/// preflight make one round of calls, each bounded by the provider's own timeouts).
#[derive(Debug, Default, Args)]
struct WaitLimits {
    /// Seconds to wait for the VM to run and pass its checks (overrides
    /// VMConfig.StatusTimeout; default 300).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    timeout: Option<u64>,
    /// Seconds to wait for the runner once the VM runs (overrides VMConfig.RunnerTimeout;
    /// default 300).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    runner_timeout: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    Human,
    Json,
}

fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

/// Appends the phase timings to the GitHub step summary, when there is one.
fn step_summary(what: &str, vm: &str, outcome: Result<&Outcome, &LifecycleError>) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let mut text = format!("### ephflow vm {what}: `{vm}`\n\n| phase | seconds |\n|---|---|\n");
    let timings = match outcome {
        Ok(o) => o.timings.clone(),
        Err(LifecycleError::Timeout { timings, .. }) => timings.clone(),
        Err(_) => Vec::new(),
    };
    for (phase, d) in timings {
        text.push_str(&format!("| {phase} | {:.1} |\n", d.as_secs_f64()));
    }
    match outcome {
        Ok(o) => text.push_str(&format!("\nResult: VM {}.\n\n", o.status.state)),
        Err(e) => text.push_str(&format!("\nFailed: {e}\n\n")),
    }
    use std::io::Write;
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
    {
        let _ = f.write_all(text.as_bytes());
    }
}

fn policy(config: &VmConfig, limits: &WaitLimits) -> ReadinessPolicy {
    let mut policy = ReadinessPolicy::for_config(config);
    if let Some(t) = limits.timeout {
        policy.status_timeout = Duration::from_secs(t);
    }
    if let Some(t) = limits.runner_timeout {
        policy.runner_timeout = Duration::from_secs(t);
    }
    policy
}

fn status_json(status: &VmStatus) -> serde_json::Value {
    json!({
        "state": status.state.name(),
        "instance_check": status.instance_check.name(),
        "system_check": status.system_check.name(),
    })
}

pub fn run(args: VmArgs) -> Exit {
    let no_wait = WaitLimits::default();
    let (what, common, wait, limits) = match &args.action {
        VmAction::Reap(reap) => return super::reap::run(reap),
        VmAction::Status(c) => ("status", c, false, &no_wait),
        VmAction::Start {
            common,
            wait,
            limits,
        } => ("start", common, *wait, limits),
        VmAction::Poll { common, limits } => ("poll", common, false, limits),
        VmAction::Stop(c) => ("stop", c, false, &no_wait),
        VmAction::Preflight(c) => ("preflight", c, false, &no_wait),
    };
    if what == "start" && !wait && (limits.timeout.is_some() || limits.runner_timeout.is_some()) {
        eprintln!(
            "error: --timeout and --runner-timeout bound a wait, and `vm start` waits only with --wait: add --wait, or drop them"
        );
        return Exit::Usage;
    }
    let path = common
        .workflow
        .as_deref()
        .or(common.file.as_deref())
        .expect("clap requires one of the two");
    let format = common.format;
    let (_, workflow) = match super::load_valid(path, true, "nothing done") {
        Ok(loaded) => loaded,
        Err(exit) => {
            // The problems themselves are on standard error.
            let error = format!("{} could not be used as a workflow", path.display());
            json_failure(format, what, None, None, exit, &error);
            return exit;
        }
    };
    let Some(config) = workflow.vm_config.clone() else {
        let error = format!(
            "{} has no VMConfig, so `vm {what}` has no VM to act on; add one (see `ephflow schema`)",
            path.display()
        );
        json_failure(format, what, None, None, Exit::InvalidInput, &error);
        eprintln!("error: {error}");
        return Exit::InvalidInput;
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        let ctx = BuildContext {
            config: config.clone(),
            secrets: Arc::new(EnvSecrets),
        };
        let provider: Box<dyn VmProvider> = match ephflow::core::registry::build(ctx).await {
            Ok(p) => p,
            Err(e) => {
                let exit = super::exit_for(e.class);
                json_failure(format, what, None, Some(e.class), exit, &e.to_string());
                report_failure(what, &config.name, &e.to_string());
                return exit;
            }
        };
        let vm = provider.vm_id().to_owned();
        // Readiness includes the runner check when the workflow names the runner and a
        // GitHub token is available; otherwise it waits for the health checks.
        let runner_backend = if what == "poll" || wait {
            runner_backend(&workflow, &config).await
        } else {
            None
        };
        let probe = runner_backend
            .as_ref()
            .zip(config.runner_name.as_deref())
            .map(|(b, name)| BackendRunnerProbe::new(b.as_ref(), name));
        let progress = Progress::new();
        let mut engine = Lifecycle::new(provider.as_ref(), policy(&config, limits), &progress);
        if let Some(p) = &probe {
            engine = engine.with_runner(p);
        }
        let result: Result<Option<Outcome>, LifecycleError> = match what {
            "status" => engine.status().await.map(|status| {
                Some(Outcome {
                    status,
                    requested: false,
                    timings: Vec::new(),
                })
            }),
            "start" if wait => engine.start_and_wait().await.map(Some),
            "start" => engine.start().await.map(Some),
            "poll" => engine.wait_ready().await.map(Some),
            "stop" => engine.stop().await.map(Some),
            _ => provider.preflight().await.map(|()| None).map_err(|source| {
                LifecycleError::Provider {
                    vm: vm.clone(),
                    source,
                }
            }),
        };
        progress.done();
        match result {
            Ok(outcome) => {
                if let Some(o) = &outcome {
                    step_summary(what, &vm, Ok(o));
                }
                print_success(what, wait, &vm, outcome.as_ref(), common.format);
                Exit::Success
            }
            Err(e) => {
                step_summary(what, &vm, Err(&e));
                let exit = super::exit_for(e.class());
                json_failure(
                    format,
                    what,
                    Some(&vm),
                    Some(e.class()),
                    exit,
                    &e.to_string(),
                );
                report_failure(what, &vm, &e.to_string());
                exit
            }
        }
    })
}

/// The backend of the first GitHubActions server, for the runner check, when VMConfig names
/// a runner; says why when there is none.
async fn runner_backend(
    workflow: &ephflow::schema::model::Workflow,
    config: &VmConfig,
) -> Option<Box<dyn ExecutionBackend>> {
    let runner = config.runner_name.as_ref()?;
    let (name, server) = workflow
        .compute_servers
        .iter()
        .find(|(_, s)| s.faas_type == FaaSType::GitHubActions)?;
    let ctx = BackendContext {
        server_name: name.clone(),
        server: server.clone(),
        secrets: Arc::new(EnvSecrets),
    };
    match ephflow::core::registry::build_backend(ctx).await {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!(
                "note: no check of runner \"{runner}\" ({e}); waiting for the VM's health checks instead"
            );
            None
        }
    }
}

/// A whole number of seconds, at least 1.
fn parse_seconds(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(0) => Err("a wait of 0 seconds could never succeed: give at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("\"{text}\" is not a whole number of seconds")),
    }
}

/// With `--format json`, every failure is one object on standard output too, with the same
/// keys as `vm reap`'s: `ok`, `exit`, `error`, and `vm` and `class` when known.
pub(super) fn json_failure(
    format: OutputFormat,
    what: &str,
    vm: Option<&str>,
    class: Option<ErrorClass>,
    exit: Exit,
    error: &str,
) {
    if format != OutputFormat::Json {
        return;
    }
    let mut v = json!({"action": what, "ok": false, "exit": exit.code(), "error": error});
    if let Some(vm) = vm {
        v["vm"] = json!(vm);
    }
    if let Some(class) = class {
        v["class"] = json!(class.name());
    }
    outln!("{v}");
}

fn report_failure(what: &str, vm: &str, message: &str) {
    // Lifecycle errors lead with the VM's id already; said once is enough.
    let message = message
        .strip_prefix(vm)
        .and_then(|m| m.strip_prefix(": "))
        .unwrap_or(message);
    eprintln!("error: vm {what} failed for {vm}: {message}");
    if in_github_actions() {
        outln!(
            "::error title=ephflow vm {what}::{}",
            message.replace('\n', " ")
        );
    }
}

/// `waited`: `start --wait` ran readiness too (the last phase of a finished wait, `ready`, is
/// not in the timings, which hold completed phases only).
fn print_success(
    what: &str,
    waited: bool,
    vm: &str,
    outcome: Option<&Outcome>,
    format: OutputFormat,
) {
    let Some(o) = outcome else {
        match format {
            OutputFormat::Json => outln!("{}", json!({"vm": vm, "action": what, "ok": true})),
            OutputFormat::Human => {
                outln!("{vm}: the credentials may describe, start and stop it")
            }
        }
        return;
    };
    match format {
        OutputFormat::Json => {
            let timings: Vec<_> = o
                .timings
                .iter()
                .map(|(p, d)| json!({"phase": p.name(), "seconds": d.as_secs_f64()}))
                .collect();
            outln!(
                "{}",
                json!({"vm": vm, "action": what, "ok": true, "requested": o.requested,
                       "status": status_json(&o.status), "timings": timings})
            );
        }
        OutputFormat::Human => {
            let s = &o.status;
            let done = match (what, o.requested, waited) {
                ("start", true, true) => "started and ready",
                ("start", true, false) => "start requested",
                ("start", false, true) => "ready (it was already starting or running)",
                ("start", false, false) => "already starting or running: nothing to do",
                ("stop", true, _) => "stop requested",
                ("stop", false, _) => "already stopping or stopped: nothing to do",
                ("poll", _, _) => "ready",
                _ => "status",
            };
            outln!(
                "{vm}: {done} (VM {}, instance check {}, system check {})",
                s.state,
                s.instance_check.name(),
                s.system_check.name()
            );
        }
    }
    if in_github_actions() {
        outln!(
            "::notice title=ephflow vm {what}::{vm} is {}",
            o.status.state
        );
    }
}
