//! `ephflow doctor`: a read-only preflight of everything a workflow's VM lifecycle needs, one
//! line per check, in the order a run would hit the problems.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::stdout::outln;
use clap::Args;
use ephflow::core::backend::{BackendContext, ExecutionBackend, RunnerStatus};
use ephflow::core::provider::{BuildContext, EnvSecrets, ErrorClass, VmProvider, VmState};
use ephflow::core::validate::validate_document;
use ephflow::exit::Exit;
use ephflow::schema::Severity;
use ephflow::schema::model::{FaaSType, VmConfig, Workflow};
use ephflow::schema::names::INJECTED_START;

/// Check, without changing anything, that a workflow can run: the workflow, the VM's
/// credentials and permissions, the instance, the GitHub tokens, the VM's runner and the
/// action containers.
///
/// One line per check: `✓` passed, `!` a warning, `✗` failed (followed by a hint), `-`
/// skipped because a check it needs failed. Credentials come from the environment as for
/// `ephflow vm` and `ephflow invoke` (`<Name>_AccessKey` / `<Name>_SecretKey` or the AWS
/// chain, `<Server>_PAT` / `GH_PAT` / `GITHUB_TOKEN`); their values are never printed.
///
/// Exit codes: 0 every check passed (warnings allowed), 1 the workflow is invalid, 3 a cloud
/// or GitHub check failed, 5 the file could not be read.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// The workflow to check.
    file: PathBuf,
}

/// The checks' lines, printed as they are decided.
#[derive(Default)]
struct Checks {
    failed: usize,
    warnings: usize,
}

impl Checks {
    fn pass(&mut self, what: &str, detail: impl std::fmt::Display) {
        outln!("✓ {what}: {detail}");
    }

    fn warn(&mut self, what: &str, detail: impl std::fmt::Display, hint: &str) {
        self.warnings += 1;
        outln!("! {what}: {detail}");
        outln!("    hint: {hint}");
    }

    fn fail(&mut self, what: &str, detail: impl std::fmt::Display, hint: &str) {
        self.failed += 1;
        outln!("✗ {what}: {detail}");
        outln!("    hint: {hint}");
    }

    fn skip(&mut self, what: &str, why: &str) {
        outln!("- {what}: skipped ({why})");
    }
}

pub fn run(args: DoctorArgs) -> Exit {
    let mut checks = Checks::default();
    let workflow = match validate(&args.file, &mut checks) {
        Ok(w) => w,
        Err(exit) => return exit,
    };
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        match &workflow.vm_config {
            Some(config) => vm_checks(config, &mut checks).await,
            None => checks.warn(
                "VM",
                "the workflow has no VMConfig: no VM checks",
                "add a VMConfig for actions marked RequiresVM (see `ephflow schema`)",
            ),
        }
        let backends = github_checks(&workflow, &mut checks).await;
        runner_checks(&workflow, &backends, &mut checks).await;
    });
    container_checks(&workflow, &mut checks);
    eprintln!(
        "doctor: {} failed, {} warning{}",
        checks.failed,
        checks.warnings,
        if checks.warnings == 1 { "" } else { "s" }
    );
    if checks.failed > 0 {
        Exit::CloudFailure
    } else {
        Exit::Success
    }
}

/// Check 1: the workflow validates. The errors go to standard error, as `validate` prints
/// them; an invalid workflow stops here, since nothing after it could be trusted.
fn validate(path: &Path, checks: &mut Checks) -> Result<Workflow, Exit> {
    let file = path.display().to_string();
    let doc = match super::load(path) {
        Ok(d) => d,
        Err(exit) => {
            checks.fail(
                "workflow",
                format!("{file} could not be read as a workflow"),
                "see the message on standard error",
            );
            return Err(exit);
        }
    };
    let report = validate_document(&doc).map_err(super::internal)?;
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    super::report::print_diagnostics(&errors, &file);
    if !report.is_valid() {
        checks.fail(
            "workflow",
            format!(
                "{file} is invalid ({})",
                super::count(errors.len(), "error")
            ),
            &format!("fix the errors above (`ephflow validate {file}`)"),
        );
        return Err(Exit::InvalidInput);
    }
    let warnings = report.count(Severity::Warning);
    let workflow = report
        .workflow
        .expect("a valid report has the typed workflow");
    let vm = workflow.vm_actions().count();
    let summary = format!(
        "{file} is valid ({} actions, {vm} on the VM)",
        workflow.action_list.len()
    );
    if vm > 0 && !workflow.action_list.contains_key(INJECTED_START) {
        checks.warn(
            "workflow",
            format!("{summary}, but not augmented: `register` and `invoke` refuse it"),
            &format!(
                "run `ephflow augment {file}` and check the _augmented.json it writes (the file you commit)"
            ),
        );
    } else if warnings > 0 {
        checks.warn(
            "workflow",
            format!("{summary}, with {}", super::count(warnings, "warning")),
            &format!("see `ephflow validate {file}`"),
        );
    } else {
        checks.pass("workflow", summary);
    }
    Ok(workflow)
}

/// Checks 2 to 4: credentials, DryRun permissions, the instance.
async fn vm_checks(config: &VmConfig, checks: &mut Checks) {
    const CREDENTIALS: &str = "VM credentials";
    const PERMISSIONS: &str = "VM permissions";
    const INSTANCE: &str = "VM instance";
    let credentials_hint = format!(
        "set {0}_AccessKey and {0}_SecretKey (both), or configure the {1} provider's standard credential chain",
        config.name, config.provider
    );
    let skip_rest = |checks: &mut Checks| {
        checks.skip(PERMISSIONS, "no credentials");
        checks.skip(INSTANCE, "no credentials");
    };
    let ctx = BuildContext {
        config: config.clone(),
        secrets: Arc::new(EnvSecrets),
    };
    let provider: Box<dyn VmProvider> = match ephflow::core::registry::build(ctx).await {
        Ok(p) => p,
        Err(e) => {
            checks.fail(CREDENTIALS, &e.message, &credentials_hint);
            return skip_rest(checks);
        }
    };
    let vm = provider.vm_id().to_owned();
    match provider.credential_source().await {
        Ok(Some(source)) => checks.pass(CREDENTIALS, format!("from {source}")),
        Ok(None) => checks.pass(
            CREDENTIALS,
            format!(
                "the {} provider does not say where they come from",
                config.provider
            ),
        ),
        Err(e) => {
            checks.fail(CREDENTIALS, &e.message, &credentials_hint);
            return skip_rest(checks);
        }
    }
    let problem_hint = |class: ErrorClass| match class {
        ErrorClass::PermissionDenied => {
            "grant the policy that `ephflow iam-policy FILE` prints, or fix the credentials"
        }
        ErrorClass::NotFound | ErrorClass::InvalidInput => {
            "set VMConfig.InstanceId to an existing instance and VMConfig.Region to its region"
        }
        _ => "check the network (and AWS_ENDPOINT_URL_EC2 when set), then run doctor again",
    };
    match provider.preflight().await {
        Ok(()) => checks.pass(
            PERMISSIONS,
            format!("the credentials may describe, start and stop {vm} (dry run)"),
        ),
        // A missing instance fails the dry runs too: the instance line says it once.
        Err(e) if e.class == ErrorClass::NotFound => {
            checks.skip(PERMISSIONS, "the instance was not found")
        }
        Err(e) => checks.fail(PERMISSIONS, &e.message, problem_hint(e.class)),
    }
    let region = config
        .region
        .as_deref()
        .map(|r| format!(" in {r}"))
        .unwrap_or_default();
    match provider.describe().await {
        Ok(status) if status.state == VmState::Terminated => checks.fail(
            INSTANCE,
            format!("{vm}{region} is terminated and cannot be started again"),
            "create a new instance and set VMConfig.InstanceId",
        ),
        Ok(status) => checks.pass(INSTANCE, format!("{vm} exists{region} ({})", status.state)),
        Err(e) => checks.fail(INSTANCE, &e.message, problem_hint(e.class)),
    }
}

/// Check 5: for each GitHubActions server, the token works, may dispatch and may read the
/// runners. Returns the backends that could be built, by server name.
async fn github_checks(
    workflow: &Workflow,
    checks: &mut Checks,
) -> Vec<(String, Box<dyn ExecutionBackend>)> {
    let mut backends = Vec::new();
    for (name, server) in &workflow.compute_servers {
        if server.faas_type != FaaSType::GitHubActions {
            continue;
        }
        let repo = format!(
            "{}/{}",
            server.user_name.as_deref().unwrap_or("?"),
            server.action_repo_name.as_deref().unwrap_or("?")
        );
        let what = format!("GitHub {name} ({repo})");
        // A server called GH has GH_PAT as its own variable: name it once.
        let variables = if name == "GH" {
            "GH_PAT".to_owned()
        } else {
            format!("{name}_PAT or GH_PAT")
        };
        let token_hint = format!(
            "set {variables} to a token that can see {repo}, with \"Actions: write\" (dispatch), \"Administration: read\" (runners) and \"Contents: read\""
        );
        let ctx = BackendContext {
            server_name: name.clone(),
            server: server.clone(),
            secrets: Arc::new(EnvSecrets),
        };
        let backend = match ephflow::core::registry::build_backend(ctx).await {
            Ok(b) => b,
            Err(e) => {
                checks.fail(&what, &e.message, &token_hint);
                continue;
            }
        };
        // The runner check needs a backend that can list runners.
        let runners_readable = match backend.check_access().await {
            Ok(access) => {
                let token = access
                    .credential_source
                    .as_deref()
                    .map(|s| format!("token {s}"))
                    .unwrap_or_else(|| "the token".into());
                let mut problems = Vec::new();
                if access.can_dispatch == Some(false) {
                    problems.push(format!("may not dispatch workflows ({})", access.detail));
                }
                if !access.can_read_runners {
                    problems.push("may not list the self-hosted runners".to_owned());
                }
                if !problems.is_empty() {
                    checks.fail(
                        &what,
                        format!("{token} {}", problems.join(", and ")),
                        &format!(
                            "use a token of a user with write access to {repo}, with \"Actions: write\" and \"Administration: read\" (classic tokens: the repo scope)"
                        ),
                    );
                } else if access.can_dispatch.is_none() {
                    checks.warn(
                        &what,
                        format!(
                            "{token} works and may read the runners; GitHub does not say whether it may dispatch ({})",
                            access.detail
                        ),
                        "make sure it has \"Actions: write\" on the repository",
                    );
                } else {
                    checks.pass(
                        &what,
                        format!(
                            "{token} works, may dispatch ({}) and read the runners",
                            access.detail
                        ),
                    );
                }
                access.can_read_runners
            }
            Err(e) if e.class == ErrorClass::Unsupported => {
                checks.warn(&what, &e.message, "check the backend's access by hand");
                true
            }
            Err(e) => {
                checks.fail(&what, &e.message, github_hint(e.class, &token_hint));
                false
            }
        };
        if runners_readable {
            backends.push((name.clone(), backend));
        }
    }
    if backends.is_empty()
        && !workflow
            .compute_servers
            .values()
            .any(|s| s.faas_type == FaaSType::GitHubActions)
    {
        checks.warn(
            "GitHub",
            "the workflow has no GitHubActions server: no token check",
            "VM actions run on GitHubActions servers; add one if the workflow has any",
        );
    }
    backends
}

/// The hint for a failed GitHub request: `access` for refusals, a network hint otherwise.
fn github_hint(class: ErrorClass, access: &str) -> &str {
    match class {
        ErrorClass::PermissionDenied | ErrorClass::NotFound | ErrorClass::InvalidInput => access,
        ErrorClass::RateLimited => "wait for GitHub's rate limit to reset, then run doctor again",
        _ => "check the network (and GITHUB_API_URL when set), then run doctor again",
    }
}

/// Check 6: the VM's runner is registered (online or offline) with `self-hosted` and
/// VMConfig.RunnerLabels, on each repository whose VM actions it must run (the first
/// GitHubActions server when no action uses the VM).
async fn runner_checks(
    workflow: &Workflow,
    backends: &[(String, Box<dyn ExecutionBackend>)],
    checks: &mut Checks,
) {
    let Some(config) = &workflow.vm_config else {
        return;
    };
    let Some(runner) = config.runner_name.as_deref() else {
        checks.warn(
            "runner",
            "VMConfig has no RunnerName: readiness cannot wait for the VM's runner, only for the VM's health checks",
            "set VMConfig.RunnerName to the name of the runner registered on the VM",
        );
        return;
    };
    let what = format!("runner {runner}");
    let github = |name: &str| {
        workflow
            .compute_servers
            .get(name)
            .is_some_and(|s| s.faas_type == FaaSType::GitHubActions)
    };
    let mut servers: Vec<&str> = Vec::new();
    for (_, action) in workflow.vm_actions() {
        let s = action.faas_server.as_str();
        if github(s) && !servers.contains(&s) {
            servers.push(s);
        }
    }
    if servers.is_empty() {
        servers.extend(
            workflow
                .compute_servers
                .keys()
                .find(|n| github(n))
                .map(String::as_str),
        );
    }
    let mut expected = vec!["self-hosted".to_owned()];
    expected.extend(config.runner_labels.iter().flatten().cloned());
    for server in servers {
        let Some((_, backend)) = backends.iter().find(|(n, _)| n == server) else {
            checks.skip(
                &what,
                &format!("the GitHub check of server {server} failed"),
            );
            continue;
        };
        let place = backend.describe();
        let labels = match backend.runner_labels(runner).await {
            Ok(Some(labels)) => labels,
            Ok(None) => {
                checks.fail(
                    &what,
                    format!("not registered on {place}"),
                    &format!(
                        "register the VM's runner in the repository (Settings → Actions → Runners) as {runner} with the labels {}",
                        expected.join(", ")
                    ),
                );
                continue;
            }
            Err(e) if e.class == ErrorClass::Unsupported => {
                checks.warn(&what, &e.message, "check the runner by hand");
                continue;
            }
            Err(e) => {
                checks.fail(
                    &what,
                    &e.message,
                    github_hint(
                        e.class,
                        "the token needs \"Administration: read\" to see runners",
                    ),
                );
                continue;
            }
        };
        let state = match backend.runner_status(runner).await {
            Ok(RunnerStatus::Online) => "online",
            Ok(RunnerStatus::Busy) => "online, busy",
            Ok(RunnerStatus::Offline) => "offline",
            // Gone between the two requests: say what the labels request found.
            Ok(RunnerStatus::Absent) | Err(_) => "registered",
        };
        // GitHub matches labels without regard to case.
        let missing: Vec<&String> = expected
            .iter()
            .filter(|e| !labels.iter().any(|l| l.eq_ignore_ascii_case(e)))
            .collect();
        if missing.is_empty() {
            checks.pass(
                &what,
                format!(
                    "registered on {place} ({state}) with the labels {}",
                    labels.join(", ")
                ),
            );
        } else {
            let missing: Vec<&str> = missing.iter().map(|s| s.as_str()).collect();
            checks.fail(
                &what,
                format!(
                    "registered on {place} ({state}) but without the labels {} (it has {}), so VM jobs (runs-on [{}]) never land on it",
                    missing.join(", "),
                    labels.join(", "),
                    expected.join(", ")
                ),
                &format!(
                    "add the labels to the runner (config.sh --labels {}, or in the repository's runner settings), or change VMConfig.RunnerLabels",
                    missing.join(",")
                ),
            );
        }
    }
}

/// Check 7: every action on a GitHubActions server has an ActionContainers entry; without one
/// `register` falls back to FaaSr's default image, which is a warning, not a failure.
fn container_checks(workflow: &Workflow, checks: &mut Checks) {
    const WHAT: &str = "containers";
    let mut on_github = 0;
    let mut missing = 0;
    for (name, action) in &workflow.action_list {
        let github = workflow
            .compute_servers
            .get(&action.faas_server)
            .is_some_and(|s| s.faas_type == FaaSType::GitHubActions);
        if !github {
            continue;
        }
        on_github += 1;
        let has = workflow
            .action_containers
            .as_ref()
            .is_some_and(|c| c.contains_key(name));
        if !has {
            missing += 1;
            checks.warn(
                WHAT,
                format!(
                    "action {name} has no ActionContainers entry: `register` would use {}",
                    ephflow::github::render::default_image(action.kind)
                ),
                &format!("add \"{name}\": \"<image>\" to ActionContainers to choose its image"),
            );
        }
    }
    if missing == 0 {
        checks.pass(
            WHAT,
            format!("every action on a GitHubActions server has one ({on_github})"),
        );
    }
}
