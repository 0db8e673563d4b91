//! `ephflow register` and `ephflow invoke`: deploy and start a workflow on GitHub Actions.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::stdout::outln;
use clap::Args;
use ephflow::core::backend::BackendContext;
use ephflow::core::provider::EnvSecrets;
use ephflow::exit::Exit;
use ephflow::schema::model::FaaSType;
use ephflow::schema::names::INJECTED_START;

/// Render the GitHub Actions workflow files of a (augmented) workflow: one
/// `<WorkflowName>-<Action>.yml` per action on a GitHubActions server, as FaaSr registers
/// them, plus a failure-teardown job that stops the VM when a VM-era job fails or is
/// cancelled. Commit DIR (usually `.github/workflows`) to the action repository.
///
/// Exit codes: 0 written (with --check: up to date), 1 invalid or unaugmented workflow, a value
/// register refuses, or with --check a file that would change (nothing written), 2 usage, 5 a
/// file could not be read or written.
#[derive(Debug, Args)]
pub struct RegisterArgs {
    /// The workflow JSON (augmented, if it has RequiresVM actions).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Directory of the workflow files.
    #[arg(long, value_name = "DIR", default_value = ".github/workflows")]
    out: PathBuf,
    /// Write nothing; list the files that would change and exit 1 if any would.
    #[arg(long)]
    check: bool,
    /// Who runs the lifecycle actions (faasr-vm-start, -poll-*, -stop): FaaSr's runtime in the
    /// workflow's containers, or ephflow itself (`ephflow action run` in --builtin-image, which
    /// native requires).
    /// Native builtins dispatch only actions on GitHubActions servers.
    #[arg(long, value_enum, default_value = "faasr")]
    builtins: Builtins,
    /// The image with ephflow on PATH for native builtins (build it with the repository's
    /// Dockerfile).
    #[arg(
        long,
        value_name = "IMAGE",
        required_if_eq("builtins", "native"),
        value_parser = clap::builder::NonEmptyStringValueParser::new()
    )]
    builtin_image: Option<String>,
    /// Also render `<WorkflowName>-ephflow-reaper.yml`, a scheduled job (every 10 minutes, and
    /// on demand) that runs `ephflow vm reap` in IMAGE to stop the VM when nothing uses it
    /// (VMConfig.IdleTimeout, MaxLifetime) [default with --builtins native: --builtin-image].
    #[arg(long, value_name = "IMAGE", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    reaper_image: Option<String>,
    /// Path of the workflow JSON in the repository, which the reaper reads [default: FILE's
    /// name, as `ephflow invoke` assumes].
    #[arg(long, value_name = "PATH")]
    payload_path: Option<String>,
}

/// Who runs the lifecycle actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Builtins {
    /// FaaSr's runtime (`faasr_entry.py`) in the workflow's containers.
    Faasr,
    /// `ephflow action run` in --builtin-image.
    Native,
}

pub fn register(args: RegisterArgs) -> Exit {
    if args.out.exists() && !args.out.is_dir() {
        eprintln!(
            "error: --out {} is a file; give the directory of the workflow files (usually .github/workflows); nothing written",
            args.out.display()
        );
        return Exit::Usage;
    }
    let (_, workflow) = match super::load_valid(&args.file, true, "nothing written") {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    if args.builtins == Builtins::Faasr && args.builtin_image.is_some() {
        eprintln!(
            "error: --builtin-image is for --builtins native; add --builtins native, or drop --builtin-image; nothing written"
        );
        return Exit::Usage;
    }
    if args.builtins == Builtins::Native {
        let problems = ephflow::core::action::dispatch::native_dispatch_problems(&workflow);
        for p in &problems {
            eprintln!("error: {}: {p}", args.file.display());
        }
        if !problems.is_empty() {
            eprintln!("{}: nothing written", args.file.display());
            return Exit::InvalidInput;
        }
    }
    let stop_step = workflow.vm_config.as_ref().and_then(|vm| {
        ephflow::core::registry::provider(&vm.provider)
            .ok()
            .flatten()
            .and_then(|p| (p.ci_stop_step)(vm))
    });
    let native_image = args
        .builtin_image
        .clone()
        .filter(|_| args.builtins == Builtins::Native);
    let reaper = args
        .reaper_image
        .clone()
        .or_else(|| native_image.clone())
        .filter(|_| workflow.vm_config.is_some())
        .map(|image| ephflow::core::registry::ReaperOptions {
            image,
            payload_path: args.payload_path.clone().unwrap_or_else(|| {
                args.file
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            }),
        });
    if reaper.is_some() && args.payload_path.is_none() && ephflow::io::is_stdin(&args.file) {
        eprintln!(
            "error: the reaper reads the workflow JSON from the repository, and with the workflow on standard input its path is unknown: pass --payload-path PATH; nothing written"
        );
        return Exit::Usage;
    }
    // Every linked backend whose FaaSType the workflow uses renders its servers' files.
    let backends = match ephflow::core::registry::backends() {
        Ok(b) => b,
        Err(e) => return super::internal(e),
    };
    let mut files: Vec<(String, String)> = Vec::new();
    let rendered_types: Vec<&str> = backends.iter().map(|b| b.faas_type).collect();
    for backend in backends {
        let used = workflow
            .compute_servers
            .values()
            .any(|s| s.faas_type.as_str() == backend.faas_type);
        if !used {
            continue;
        }
        let options = ephflow::core::registry::RenderOptions {
            stop_step: stop_step.clone(),
            native_builtin_image: native_image.clone(),
            reaper: reaper.clone(),
        };
        match (backend.render)(&workflow, &options) {
            Ok(rendered) => files.extend(rendered),
            Err(e) => {
                eprintln!("error: {}: {e}; nothing written", args.file.display());
                return Exit::InvalidInput;
            }
        }
    }
    // Notes once rendering has succeeded (an error would make them moot).
    let oidc_with_faasr_builtins = stop_step.as_ref().is_some_and(|s| s.id_token)
        && native_image.is_none()
        && workflow.action_list.contains_key(INJECTED_START);
    notes(&workflow, reaper.is_some(), &rendered_types);
    if let (true, Some(vm)) = (oidc_with_faasr_builtins, &workflow.vm_config) {
        eprintln!(
            "note: the failure teardown uses VMConfig.RoleArn, but FaaSr's builtins (vm_start, vm_poll, vm_stop) still read {0}_AccessKey / {0}_SecretKey: register with --builtins native --builtin-image IMAGE to need no key",
            vm.name
        );
    }
    for path in leftovers(&args.out, &workflow.workflow_name, &files) {
        eprintln!(
            "warning: {} is not rendered from this workflow any more; if it was registered from an earlier version (a removed action, a dropped reaper), delete it: GitHub still runs it, and ephflow never deletes files",
            path.display()
        );
    }
    if args.check {
        let stale: Vec<&str> = files
            .iter()
            .filter(|(name, text)| {
                std::fs::read_to_string(args.out.join(name)).ok().as_deref() != Some(text.as_str())
            })
            .map(|(name, _)| name.as_str())
            .collect();
        if stale.is_empty() {
            outln!(
                "{}: {} workflow files up to date",
                args.out.display(),
                files.len()
            );
            return Exit::Success;
        }
        for name in &stale {
            outln!("would write {}", args.out.join(name).display());
        }
        return Exit::InvalidInput;
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("error: cannot create {}: {e}", args.out.display());
        return Exit::Io;
    }
    for (name, text) in &files {
        let path = args.out.join(name);
        if let Err(e) = ephflow::io::write_atomic(&path, text.as_bytes(), &[args.file.as_path()]) {
            return super::write_failed(&e);
        }
    }
    outln!(
        "wrote {} workflow files to {}",
        files.len(),
        args.out.display()
    );
    Exit::Success
}

/// What the rendered files leave to the user: the reaper when none was asked for, VM jobs that
/// any self-hosted runner could take, actions on platforms no linked backend renders.
fn notes(workflow: &ephflow::schema::model::Workflow, reaper: bool, rendered_types: &[&str]) {
    if let Some(vm) = &workflow.vm_config {
        if !reaper {
            eprintln!(
                "note: no reaper rendered (it stops a VM left running by a cancelled or broken run): pass --reaper-image IMAGE (see the Dockerfile)"
            );
        }
        let labelled = vm.runner_labels.as_ref().is_some_and(|l| !l.is_empty());
        if workflow.vm_actions().next().is_some() && !labelled {
            eprintln!(
                "note: VM jobs run on `runs-on: self-hosted`, which any self-hosted runner of the repository (or its organisation) can take: set VMConfig.RunnerLabels to labels only the VM's runner has"
            );
        }
    }
    let elsewhere: Vec<String> = workflow
        .action_list
        .iter()
        .filter_map(|(name, action)| {
            let server = workflow.compute_servers.get(&action.faas_server)?;
            (!rendered_types.contains(&server.faas_type.as_str()))
                .then(|| format!("{name} ({})", server.faas_type))
        })
        .collect();
    if !elsewhere.is_empty() {
        eprintln!(
            "note: no file rendered for the actions on other platforms: {}; register those with FaaSr",
            elsewhere.join(", ")
        );
    }
}

/// Files in `out` that look like an earlier registration of this workflow
/// (`<WorkflowName>-*.yml` with FaaSr's `PAYLOAD_URL` input) but are not among `rendered`.
fn leftovers(out: &Path, workflow_name: &str, rendered: &[(String, String)]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(out) else {
        return Vec::new();
    };
    let prefix = format!("{workflow_name}-");
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| {
                n.starts_with(&prefix)
                    && n.ends_with(".yml")
                    && !rendered.iter().any(|(r, _)| *r == n)
            })
        })
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains("PAYLOAD_URL")))
        .collect();
    found.sort();
    found
}

/// Start a registered workflow the way FaaSr does: dispatch its entry action (for an
/// augmented workflow, faasr-vm-start) with OVERWRITTEN and PAYLOAD_URL. Checks first that
/// the workflow JSON and the entry's workflow file are on the branch.
///
/// Exit codes: 0 dispatched, 1 invalid or unaugmented workflow, a missing token, or a file not
/// on the branch (nothing dispatched), 2 usage, 3 GitHub refused or failed, 5 the file could
/// not be read.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The workflow JSON, as committed to the action repository.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Path of the workflow JSON in the repository [default: FILE's name].
    #[arg(long, value_name = "PATH")]
    payload_path: Option<String>,
}

pub fn invoke(args: InvokeArgs) -> Exit {
    let (_, workflow) = match super::load_valid(&args.file, true, "nothing dispatched") {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    if workflow.vm_actions().next().is_some() && !workflow.action_list.contains_key(INJECTED_START)
    {
        eprintln!(
            "error: {} has RequiresVM actions but is not augmented: run `ephflow augment {}` and invoke the _augmented.json it writes (commit and register it first)",
            args.file.display(),
            args.file.display()
        );
        return Exit::InvalidInput;
    }
    let entry = workflow.function_invoke.clone();
    let Some(action) = workflow.action_list.get(&entry) else {
        return Exit::InvalidInput;
    };
    let server_name = action.faas_server.clone();
    let Some(server) = workflow.compute_servers.get(&server_name).cloned() else {
        return Exit::InvalidInput;
    };
    if server.faas_type != FaaSType::GitHubActions {
        eprintln!(
            "error: the entry \"{entry}\" runs on {server_name} ({}); ephflow invoke starts GitHubActions entries",
            server.faas_type
        );
        return Exit::InvalidInput;
    }
    let owner = server.user_name.clone().unwrap_or_default();
    let repo = server.action_repo_name.clone().unwrap_or_default();
    let branch = server.branch.clone().unwrap_or_else(|| "main".to_owned());
    if args.payload_path.is_none() && ephflow::io::is_stdin(&args.file) {
        eprintln!(
            "error: with the workflow on standard input its path in the repository is unknown: pass --payload-path PATH; nothing dispatched"
        );
        return Exit::Usage;
    }
    let payload_path = args.payload_path.clone().unwrap_or_else(|| {
        args.file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let workflow_file = format!("{}-{entry}.yml", workflow.workflow_name);
    let runtime = match super::runtime() {
        Ok(r) => r,
        Err(exit) => return exit,
    };
    runtime.block_on(async {
        let ctx = BackendContext {
            server_name,
            server,
            secrets: Arc::new(EnvSecrets),
        };
        let backend = match ephflow::core::registry::build_backend(ctx).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return super::exit_for(e.class);
            }
        };
        for (path, fix) in [
            (
                payload_path.clone(),
                "commit the workflow JSON there (or pass --payload-path)",
            ),
            (
                format!(".github/workflows/{workflow_file}"),
                "run `ephflow register` and commit its files",
            ),
        ] {
            // Reads are safe to repeat: transient failures get two more tries.
            let found = ephflow::core::retry::transient(
                &ephflow::core::action::READ_PAUSES,
                || backend.fetch_file(&path, &branch),
                |_, _| {},
            )
            .await;
            match found {
                Ok(Some(_)) => {}
                Ok(None) => {
                    eprintln!(
                        "error: {path} is not on {owner}/{repo}@{branch}: {fix}; nothing dispatched"
                    );
                    return Exit::InvalidInput;
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    return super::exit_for(e.class);
                }
            }
        }
        let overwritten = serde_json::json!({"FunctionInvoke": entry}).to_string();
        let payload_url = format!("{owner}/{repo}/{branch}/{payload_path}");
        let inputs = vec![
            ("OVERWRITTEN".to_owned(), overwritten),
            ("PAYLOAD_URL".to_owned(), payload_url),
        ];
        match backend.dispatch(&workflow_file, &branch, &inputs).await {
            Ok(()) => {
                outln!("dispatched {workflow_file} on {owner}/{repo}@{branch} (entry \"{entry}\")");
                Exit::Success
            }
            Err(e) => {
                eprintln!("error: {e}");
                super::exit_for(e.class)
            }
        }
    })
}
