//! `ephflow action run`: the entry point of a native lifecycle action's job.

use std::sync::Arc;

use clap::{Args, Subcommand};
use ephflow::core::action::{self, ActionError, ActionInputs, RunContext, RunOutcome};
use ephflow::core::lifecycle::ReadinessPolicy;
use ephflow::core::provider::{EnvSecrets, SecretSource};
use ephflow::exit::Exit;

use super::progress::Progress;
use super::stdout::outln;

/// Run FaaSr's lifecycle actions natively (jobs rendered by `ephflow register --builtins
/// native`).
#[derive(Debug, Args)]
pub struct ActionArgs {
    #[command(subcommand)]
    command: ActionCommand,
}

#[derive(Debug, Subcommand)]
enum ActionCommand {
    /// Run the lifecycle action this job was dispatched for.
    ///
    /// Reads PAYLOAD_URL (`<owner>/<repo>/<branch>/<path of the workflow JSON>`) and
    /// OVERWRITTEN (JSON: FunctionInvoke, InvocationID, ...) from the environment, fetches and
    /// validates the workflow, refuses anything but a `_faasr_builtin` vm_start / vm_poll /
    /// vm_stop action, and then: checks fan-in (every predecessor's completion marker on the
    /// DefaultDataStore; of several invocations exactly one proceeds), starts, waits for or
    /// stops the VM, writes the action's marker, and dispatches the next actions (GitHubActions
    /// only). The entry creates InvocationID and InvocationTimestamp when empty.
    ///
    /// Credentials: `<EPHFLOW_SERVER>_PAT` / `GH_PAT` / `GITHUB_TOKEN` for GitHub,
    /// `<VMConfig.Name>_AccessKey` / `_SecretKey` for the VM (AWS: or `VMConfig.RoleArn`,
    /// assumed with the job's OIDC token under `id-token: write`), `<Store>_AccessKey` /
    /// `_SecretKey` for the data store. Exit codes: 0 done (also when another invocation
    /// runs the action), 1 invalid input or workflow, 3 cloud or GitHub failure, 4 timeout.
    Run(RunArgs),
}

#[derive(Debug, Args)]
struct RunArgs {
    /// The ComputeServers entry whose `<SERVER>_PAT` reads the workflow JSON (then GH_PAT,
    /// then GITHUB_TOKEN); rendered jobs set EPHFLOW_SERVER to the action's server.
    #[arg(
        long,
        value_name = "SERVER",
        env = "EPHFLOW_SERVER",
        hide_env_values = true,
        default_value = "GH"
    )]
    server: String,
}

fn in_github_actions() -> bool {
    std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true")
}

fn fail(err: &ActionError) -> Exit {
    eprintln!("error: {err}");
    if let ActionError::InvalidWorkflow { diagnostics, .. } = err {
        for d in diagnostics {
            eprintln!("  {} {}", d.pointer, d.message);
        }
    }
    if in_github_actions() {
        outln!(
            "::error title=ephflow action run::{}",
            err.to_string().replace('\n', " ")
        );
    }
    super::exit_for(err.class())
}

/// Unique per job, the same across re-runs of the job (so a re-run of the fan-in winner
/// proceeds): the GitHub run id when there is one.
fn claim_token() -> String {
    match std::env::var("GITHUB_RUN_ID") {
        Ok(id) if !id.is_empty() => format!("github-run-{id}"),
        _ => format!("local-{}", action::invocation::new_uuid()),
    }
}

pub fn run(args: ActionArgs) -> Exit {
    let ActionCommand::Run(args) = args.command;
    let inputs = match ActionInputs::parse(
        std::env::var("PAYLOAD_URL").ok().as_deref(),
        std::env::var("OVERWRITTEN").ok().as_deref(),
    ) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        let secrets: Arc<dyn SecretSource> = Arc::new(EnvSecrets);
        let ctx = action::payload_server(&inputs.payload_url, &args.server, secrets.clone());
        let fetcher = match ephflow::core::registry::build_backend(ctx).await {
            Ok(b) => b,
            Err(e) => {
                return fail(&ActionError::Cloud {
                    what: format!("reading {}", inputs.payload_url),
                    source: e,
                });
            }
        };
        let doc = match action::fetch_workflow(fetcher.as_ref(), &inputs.payload_url).await {
            Ok(d) => d,
            Err(e) => return fail(&e),
        };
        let prepared = match action::prepare(doc, inputs, chrono::Utc::now(), action::invocation::new_uuid) {
            Ok(p) => p,
            Err(e) => return fail(&e),
        };
        let inv = &prepared.invocation;
        eprintln!(
            "{} ({}) of invocation {} ({}{})",
            prepared.action,
            prepared.builtin.function_name(),
            inv.id,
            inv.timestamp,
            if inv.created { ", created here" } else { "" }
        );
        let store = match prepared.data_store() {
            Ok((name, entry)) => {
                match ephflow_s3::S3Store::from_data_store(name, entry, secrets.as_ref(), Default::default()) {
                    Ok(s) => s,
                    Err(e) => {
                        return fail(&ActionError::Cloud {
                            what: format!("DataStores \"{name}\""),
                            source: e,
                        });
                    }
                }
            }
            Err(e) => return fail(&e),
        };
        let progress = Progress::new();
        let config = prepared.workflow.vm_config.as_ref().expect("prepare checks VMConfig");
        let result = prepared
            .run(RunContext {
                store: &store,
                secrets,
                observer: &progress,
                claim_token: claim_token(),
                policy: ReadinessPolicy::for_config(config),
            })
            .await;
        progress.done();
        match result {
            Ok(RunOutcome::Ran {
                lifecycle,
                marker,
                dispatched,
            }) => {
                outln!(
                    "{}: done (VM {}{}); wrote {marker}",
                    prepared.action,
                    lifecycle.status.state,
                    if lifecycle.requested { ", request sent" } else { "" }
                );
                for d in &dispatched {
                    outln!(
                        "dispatched {} on {}@{}{}",
                        d.workflow_file,
                        d.server_name,
                        d.git_ref,
                        d.rank.map(|r| format!(" (rank {r})")).unwrap_or_default()
                    );
                }
                if in_github_actions() {
                    outln!(
                        "::notice title=ephflow {}::VM {}; {} next actions dispatched",
                        prepared.action,
                        lifecycle.status.state,
                        dispatched.len()
                    );
                }
                Exit::Success
            }
            Ok(RunOutcome::Waiting { missing }) => {
                outln!(
                    "{}: not every predecessor has finished ({missing} is missing); the last one's invocation runs it",
                    prepared.action
                );
                Exit::Success
            }
            Ok(RunOutcome::Lost) => {
                outln!(
                    "{}: another invocation of this fan-in runs it; nothing to do",
                    prepared.action
                );
                Exit::Success
            }
            Err(e) => fail(&e),
        }
    })
}
