//! `ephflow vm reap`: the scheduled safety net that stops a VM nothing uses.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::stdout::outln;
use clap::Args;
use ephflow::core::action::{self, ActionError, PayloadUrl};
use ephflow::core::backend::{BackendContext, ExecutionBackend};
use ephflow::core::lifecycle::{Lifecycle, Quiet, ReadinessPolicy};
use ephflow::core::provider::{BuildContext, EnvSecrets, ErrorClass, SecretSource};
use ephflow::core::reap::{self, ReapPolicy, Verdict};
use ephflow::exit::Exit;
use ephflow::schema::model::Workflow;
use serde_json::json;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["workflow", "payload_url"])))]
pub struct ReapArgs {
    /// The workflow whose VMConfig describes the VM (augmented or not).
    #[arg(long, short, value_name = "FILE")]
    workflow: Option<PathBuf>,
    /// Read the workflow from the repository instead: `<owner>/<repo>/<branch>/<path>` (the
    /// rendered reaper workflow passes it), with `<--server>_PAT`, `GH_PAT` or `GITHUB_TOKEN`.
    #[arg(long, value_name = "URL", env = "PAYLOAD_URL", hide_env_values = true)]
    payload_url: Option<String>,
    /// The ComputeServers entry whose token reads --payload-url.
    #[arg(
        long,
        value_name = "SERVER",
        env = "EPHFLOW_SERVER",
        hide_env_values = true,
        default_value = "GH"
    )]
    server: String,
    /// Idle time before a stop: `90s`, `30m`, `2h` or seconds [default: VMConfig.IdleTimeout,
    /// else 30m].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    idle: Option<Duration>,
    /// Age before a stop, unless busy [default: VMConfig.MaxLifetime, else 12h].
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    max_lifetime: Option<Duration>,
    /// Decide and report, but stop nothing.
    #[arg(long)]
    dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    format: super::vm::OutputFormat,
}

/// `90`, `90s`, `30m`, `2h`, `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("\"{text}\" is not a duration such as 90s, 30m, 2h or 1d"))?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "unknown unit \"{unit}\" in \"{text}\": use s, m, h or d"
            ));
        }
    };
    Ok(Duration::from_secs(n.saturating_mul(scale)))
}

/// Why a reap ended early: its exit code and what to say. Printed in one place, so that
/// `--format json` reports failures on standard output too.
struct Failure {
    exit: Exit,
    class: Option<ErrorClass>,
    message: String,
}

impl Failure {
    fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            class: None,
            message: message.into(),
        }
    }

    /// A provider's or backend's failure: its class decides the exit code.
    fn of_class(class: ErrorClass, message: impl Into<String>) -> Self {
        Failure {
            exit: super::exit_for(class),
            class: Some(class),
            message: message.into(),
        }
    }
}

async fn load(args: &ReapArgs, secrets: Arc<dyn SecretSource>) -> Result<Workflow, Failure> {
    if let Some(path) = &args.workflow {
        // The problems themselves are on standard error already.
        return super::load_valid(path, true, "nothing done")
            .map(|(_, w)| w)
            .map_err(|exit| {
                Failure::new(
                    exit,
                    format!("{} could not be used as a workflow", path.display()),
                )
            });
    }
    let fail = |e: ActionError| Failure::of_class(e.class(), e.to_string());
    let url: PayloadUrl = args
        .payload_url
        .as_deref()
        .unwrap_or_default()
        .parse()
        .map_err(fail)?;
    let backend =
        ephflow::core::registry::build_backend(action::payload_server(&url, &args.server, secrets))
            .await
            .map_err(|e| Failure::of_class(e.class, format!("reading {url}: {e}")))?;
    let doc = action::fetch_workflow(backend.as_ref(), &url)
        .await
        .map_err(fail)?;
    let report = ephflow::core::validate::validate_document(&doc)
        .map_err(|e| Failure::new(Exit::Internal, format!("internal error: {e}")))?;
    match report.workflow {
        Some(w) if report.is_valid() => Ok(w),
        _ => Err(Failure::new(
            Exit::InvalidInput,
            format!(
                "the workflow at {url} is invalid (run `ephflow validate` on it); nothing done"
            ),
        )),
    }
}

async fn backend(
    workflow: &Workflow,
    server: &str,
    secrets: Arc<dyn SecretSource>,
) -> Result<Box<dyn ExecutionBackend>, Failure> {
    let ctx = BackendContext {
        server_name: server.to_owned(),
        server: workflow.compute_servers[server].clone(),
        secrets,
    };
    ephflow::core::registry::build_backend(ctx).await.map_err(|e| {
        Failure::of_class(e.class,
            format!(
                "the reaper cannot tell whether the VM is in use without {server}'s backend: {e}; nothing done"
            ),
        )
    })
}

pub fn run(args: &ReapArgs) -> Exit {
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    match runtime.block_on(reap(args)) {
        Ok(()) => Exit::Success,
        Err(failure) => {
            eprintln!("error: {}", failure.message);
            super::vm::json_failure(
                args.format,
                "reap",
                None,
                failure.class,
                failure.exit,
                &failure.message,
            );
            failure.exit
        }
    }
}

async fn reap(args: &ReapArgs) -> Result<(), Failure> {
    let secrets: Arc<dyn SecretSource> = Arc::new(EnvSecrets);
    let workflow = load(args, secrets.clone()).await?;
    let Some(config) = workflow.vm_config.clone() else {
        return Err(Failure::new(
            Exit::InvalidInput,
            "the workflow has no VMConfig: there is no VM to reap",
        ));
    };
    let mut policy = ReapPolicy::for_config(&config);
    policy.idle = args.idle.unwrap_or(policy.idle);
    policy.max_lifetime = args.max_lifetime.unwrap_or(policy.max_lifetime);

    let provider = ephflow::core::registry::build(BuildContext {
        config: config.clone(),
        secrets: secrets.clone(),
    })
    .await
    .map_err(|e| Failure::of_class(e.class, format!("vm reap failed for {}: {e}", config.name)))?;
    // One backend per server that runs VM jobs; the runner lives in the first one's
    // repository (where the VM actions run).
    let files = reap::vm_job_files(&workflow);
    let mut backends: Vec<(String, Box<dyn ExecutionBackend>)> = Vec::new();
    for (server, _) in &files {
        if !backends.iter().any(|(s, _)| s == server) {
            backends.push((
                server.clone(),
                backend(&workflow, server, secrets.clone()).await?,
            ));
        }
    }
    let find = |server: &str| {
        backends
            .iter()
            .find(|(s, _)| s == server)
            .map(|(_, b)| b.as_ref())
            .expect("built above")
    };
    let jobs: Vec<(&dyn ExecutionBackend, String)> = files
        .iter()
        .map(|(server, file)| (find(server), file.clone()))
        .collect();
    let runner = config
        .runner_name
        .as_deref()
        .zip(files.first().map(|(s, _)| find(s)))
        .map(|(name, b)| (b, name));
    let vm = provider.vm_id().to_owned();
    let facts = reap::gather(provider.as_ref(), runner, &jobs)
        .await
        .map_err(|e| {
            Failure::of_class(
                e.class,
                format!("vm reap failed for {vm}: {e}; nothing stopped"),
            )
        })?;
    let verdict = reap::decide(&facts, &policy, SystemTime::now());
    let (kind, reason) = match &verdict {
        Verdict::NotRunning(r) => ("not-running", r),
        Verdict::Busy(r) => ("busy", r),
        Verdict::Keep(r) => ("keep", r),
        Verdict::Stop(r) => ("stop", r),
    };
    let mut stopped = false;
    if matches!(verdict, Verdict::Stop(_)) && !args.dry_run {
        let engine = Lifecycle::new(
            provider.as_ref(),
            ReadinessPolicy::for_config(&config),
            &Quiet,
        );
        let outcome = engine.stop().await.map_err(|e| {
            Failure::of_class(
                e.class(),
                format!("vm reap could not stop {vm} ({reason}): {e}"),
            )
        })?;
        stopped = outcome.requested;
    }
    match args.format {
        super::vm::OutputFormat::Json => outln!(
            "{}",
            json!({"action": "reap", "ok": true, "vm": vm, "verdict": kind, "reason": reason, "stopped": stopped, "dry_run": args.dry_run})
        ),
        super::vm::OutputFormat::Human => {
            let what = match (kind, stopped, args.dry_run) {
                ("stop", _, true) => "would stop it (dry run)",
                ("stop", true, _) => "stopped",
                ("stop", false, _) => "already stopping",
                ("busy", ..) => "in use, left running",
                ("keep", ..) => "left running",
                _ => "nothing to do",
            };
            outln!("{vm}: {what}: {reason}");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert!(parse_duration("2w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration("m").unwrap_err().contains("not a duration"));
    }
}
