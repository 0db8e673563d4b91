//! Rendering the GitHub Actions workflow files of a FaaSr workflow, one per action on a
//! GitHubActions server, as FaaSr's registration does, plus failure teardown.
//!
//! Safety rules: no workflow-derived text inside `run:` (commands are fixed; values travel in
//! `env:`), `${{` rejected in every workflow-derived value, secret names checked against
//! GitHub's secret-name grammar, and YAML written by a serializer that quotes YAML-1.1
//! ambiguous scalars (`on`, `yes`, ...).

use ephflow_core::provider::{CiValue, derived_secret_names, is_portable_secret_name};
use ephflow_core::reap::vm_job_timeout;
use ephflow_core::registry::{ReaperOptions, RenderOptions};
use ephflow_core::schema::model::{ActionType, FaaSType, Workflow};
use ephflow_core::schema::names::{INJECTED_POLL, INJECTED_START};
use serde_json::{Map, Value, json};

/// One rendered file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedFile {
    /// File name inside `.github/workflows/` (`<WorkflowName>-<Action>.yml`).
    pub name: String,
    /// The YAML text.
    pub text: String,
}

/// Why a workflow cannot be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A workflow-derived value would be evaluated by GitHub.
    #[error("{what} contains \"${{{{\", which GitHub Actions would evaluate; remove it")]
    Expression {
        /// Where.
        what: String,
    },
    /// A derived secret name is not a valid GitHub secret name.
    #[error(
        "the secret name \"{name}\" (derived from {from}) is not a valid GitHub secret name (letters, digits, underscores; not starting with a digit); rename {from}"
    )]
    SecretName {
        /// The name.
        name: String,
        /// What it derives from.
        from: String,
    },
    /// The reaper needs a GitHubActions server to run on.
    #[error(
        "the reaper runs on GitHub Actions, but the workflow has no GitHubActions server; drop --reaper-image"
    )]
    NoReaperServer,
    /// VM actions without the lifecycle actions.
    #[error(
        "the workflow has RequiresVM actions but no faasr-vm-start: register the augmented workflow (`ephflow augment` first)"
    )]
    NotAugmented,
}

/// Default containers by action Type, as FaaSr's GitHub Actions images are named (what an
/// action without an ActionContainers entry runs in).
pub fn default_image(kind: Option<ActionType>) -> &'static str {
    match kind {
        Some(ActionType::R) => "ghcr.io/faasr/github-actions-r:latest",
        Some(ActionType::Julia) => "ghcr.io/faasr/github-actions-julia:latest",
        _ => "ghcr.io/faasr/github-actions-python:latest",
    }
}

fn check_expression(what: &str, value: &str) -> Result<(), RenderError> {
    if value.contains("${{") {
        return Err(RenderError::Expression {
            what: what.to_owned(),
        });
    }
    Ok(())
}

/// Every secret name the actions need, checked against GitHub's secret-name grammar (see
/// [`derived_secret_names`] for the order).
pub fn secret_names(w: &Workflow) -> Result<Vec<String>, RenderError> {
    Ok(checked_secrets(w)?
        .into_iter()
        .map(|(name, _)| name)
        .collect())
}

/// The secrets a native builtin job needs, a subset of [`secret_names`]: the VM's
/// (`VMConfig.Name`), the PATs of the GitHubActions servers (reading the workflow, the runner
/// check, dispatching: native builtins dispatch only GitHubActions actions), the
/// DefaultDataStore's keys (markers and fan-in) and the workflow's own `Secrets` (a Command
/// provider's scripts may read them). Other servers' and stores' keys stay out of the job, so
/// the process that holds the VM's keys holds nothing else.
pub fn native_builtin_secret_names(w: &Workflow) -> Result<Vec<String>, RenderError> {
    let default_store = format!("DataStores.{}", w.default_data_store);
    let needed = |from: &str| {
        from == "VMConfig.Name"
            || from == "Secrets"
            || from == default_store
            || from.strip_prefix("ComputeServers.").is_some_and(|server| {
                w.compute_servers
                    .get(server)
                    .is_some_and(|s| s.faas_type == FaaSType::GitHubActions)
            })
    };
    Ok(checked_secrets(w)?
        .into_iter()
        .filter(|(_, from)| needed(from))
        .map(|(name, _)| name)
        .collect())
}

/// [`derived_secret_names`], each checked against GitHub's secret-name grammar.
fn checked_secrets(w: &Workflow) -> Result<Vec<(String, String)>, RenderError> {
    derived_secret_names(w)
        .into_iter()
        .map(|(name, from)| {
            if is_portable_secret_name(&name) {
                Ok((name, from))
            } else {
                Err(RenderError::SecretName { name, from })
            }
        })
        .collect()
}

fn secret_ref(name: &str) -> Value {
    Value::String(format!("${{{{ secrets.{name} }}}}"))
}

/// Renders the files (see [`RenderOptions`]).
pub fn render(w: &Workflow, options: &RenderOptions) -> Result<Vec<RenderedFile>, RenderError> {
    let stop_step = options.stop_step.as_ref();
    let has_vm_actions = w.vm_actions().next().is_some();
    let augmented = w.action_list.contains_key(INJECTED_START);
    if has_vm_actions && !augmented {
        return Err(RenderError::NotAugmented);
    }
    let mut secrets = secret_names(w)?;
    let vm_keys = vm_key_names(w);
    // With native builtins FaaSr's runtime never drives the VM, so user actions (one of which
    // runs on the VM itself) do not get its keys.
    if options.native_builtin_image.is_some() {
        secrets.retain(|name| !vm_keys.contains(name));
    }
    // With the provider on GitHub's OIDC token, ephflow's own jobs get no VM key secrets.
    let oidc = stop_step.is_some_and(|s| s.id_token);
    let native_secrets: Vec<String> = native_builtin_secret_names(w)?
        .into_iter()
        .filter(|name| !(oidc && vm_keys.contains(name)))
        .collect();
    let labels: Vec<String> = w
        .vm_config
        .as_ref()
        .and_then(|v| v.runner_labels.clone())
        .unwrap_or_default();
    for l in &labels {
        check_expression("VMConfig.RunnerLabels", l)?;
    }
    let mut files = Vec::new();
    for (name, action) in &w.action_list {
        let Some(server) = w.compute_servers.get(&action.faas_server) else {
            continue;
        };
        if server.faas_type != FaaSType::GitHubActions {
            continue;
        }
        let native = options
            .native_builtin_image
            .as_deref()
            .filter(|_| action.is_builtin());
        let image = native.map(str::to_owned).unwrap_or_else(|| {
            w.action_containers
                .as_ref()
                .and_then(|c| c.get(name))
                .map(|i| i.0.clone())
                .unwrap_or_else(|| default_image(action.kind).to_owned())
        });
        let image_source = match native {
            Some(_) => "the builtin image".to_owned(),
            None => format!("ActionContainers.{name}"),
        };
        check_expression(&image_source, &image)?;
        let runs_on = if action.requires_vm() {
            if labels.is_empty() {
                json!("self-hosted")
            } else {
                let mut l = vec![json!("self-hosted")];
                l.extend(labels.iter().map(|x| json!(x)));
                Value::Array(l)
            }
        } else {
            json!("ubuntu-latest")
        };
        let mut env = Map::new();
        // FaaSr's runtime in a user action (or a FaaSr builtin) may need any server's or
        // store's keys (the VM's only for FaaSr builtins); ephflow's own builtin needs only
        // its own (see `native_builtin_secret_names`).
        let job_secrets = if native.is_some() {
            &native_secrets
        } else {
            &secrets
        };
        for s in job_secrets {
            env.insert(s.clone(), secret_ref(s));
        }
        env.insert(
            "OVERWRITTEN".into(),
            json!("${{ github.event.inputs.OVERWRITTEN }}"),
        );
        env.insert(
            "PAYLOAD_URL".into(),
            json!("${{ github.event.inputs.PAYLOAD_URL }}"),
        );
        // A native builtin fetches the workflow with the token of its own server's
        // `<Server>_PAT` (the server name is a validated key, not free text).
        let step = if native.is_some() {
            check_expression(
                &format!("ActionList.{name}.FaaSServer"),
                &action.faas_server,
            )?;
            env.insert("EPHFLOW_SERVER".into(), json!(action.faas_server));
            json!({"name": "Run the lifecycle action", "run": "ephflow action run\n"})
        } else {
            json!({"name": "Run the FaaSr entry", "run": "cd /action\npython3 faasr_entry.py\n"})
        };
        let title = format!("{}-{name}", w.workflow_name);
        let input = |description: &str| json!({"description": description, "required": true, "type": "string"});
        let mut jobs = Map::new();
        let mut job = json!({
            "runs-on": runs_on,
            "container": image,
            "env": env,
            "steps": [step],
        });
        if let (true, Some(vm)) = (action.requires_vm(), &w.vm_config) {
            job["timeout-minutes"] = json!(timeout_minutes(vm_job_timeout(vm)));
        }
        if native.is_some() && oidc {
            job["permissions"] = json!({"contents": "read", "id-token": "write"});
        }
        jobs.insert("run_docker_image".into(), job);
        // Failure teardown: any job that can run while the VM is up (user actions, polls, and
        // the start, which may have started the VM before failing to dispatch what follows)
        // stops it when it fails or is cancelled, from a hosted runner. Only the stops go
        // without, on purpose: a stop invocation can fail while the stop's other predecessors
        // (VM actions) still run — one of several invocations of a fan-in stop meeting a store
        // outage — and a teardown there would stop the VM under them; the other invocations
        // still stop it, and a stop that fails everywhere is the reaper's.
        let can_run_with_vm = augmented
            && (!action.is_builtin() || name.starts_with(INJECTED_POLL) || name == INJECTED_START);
        if let (Some(step), true) = (stop_step, can_run_with_vm) {
            let mut step_env = Map::new();
            for (k, v) in &step.env {
                let value = match v {
                    CiValue::Secret(s) => {
                        if !is_portable_secret_name(s) {
                            return Err(RenderError::SecretName {
                                name: s.clone(),
                                from: "VMConfig.Name".into(),
                            });
                        }
                        secret_ref(s)
                    }
                    CiValue::Literal(l) => {
                        check_expression(&format!("the teardown value {k}"), l)?;
                        json!(l)
                    }
                };
                step_env.insert(k.clone(), value);
            }
            let mut teardown = json!({
                "needs": "run_docker_image",
                "if": "${{ failure() || cancelled() }}",
                "runs-on": "ubuntu-latest",
                "steps": [{"name": step.name, "env": step_env, "run": step.run}],
            });
            if step.id_token {
                teardown["permissions"] = json!({"id-token": "write"});
            }
            jobs.insert("stop_vm_on_failure".into(), teardown);
        }
        let doc = json!({
            "name": title,
            "on": {"workflow_dispatch": {"inputs": {
                "OVERWRITTEN": input("Overwritten fields"),
                "PAYLOAD_URL": input("URL of the payload"),
            }}},
            "permissions": {"contents": "read"},
            "jobs": jobs,
        });
        let text = serde_saphyr::to_string(&doc).expect("JSON values serialize to YAML");
        files.push(RenderedFile {
            name: format!("{title}.yml"),
            text,
        });
    }
    if let (Some(reaper), Some(vm)) = (&options.reaper, &w.vm_config) {
        files.push(render_reaper(w, vm, reaper, oidc)?);
    }
    Ok(files)
}

/// The VM's key secrets as [`derived_secret_names`] attributes them: a name that a server or a
/// store derives too is theirs, and stays in the jobs that need it.
fn vm_key_names(w: &Workflow) -> Vec<String> {
    derived_secret_names(w)
        .into_iter()
        .filter(|(_, from)| from == "VMConfig.Name")
        .map(|(name, _)| name)
        .collect()
}

/// GitHub's `timeout-minutes`: whole minutes, rounded up, at least one.
fn timeout_minutes(d: std::time::Duration) -> u64 {
    d.as_secs().div_ceil(60).max(1)
}

/// Every 10 minutes the reaper stops the VM if nothing uses it (see `ephflow vm reap`). It runs
/// on the server of the VM actions, whose repository holds the runner and the VM jobs, and
/// reads the committed workflow JSON from there; it gets only the VM's and the GitHub
/// servers' secrets.
fn render_reaper(
    w: &Workflow,
    vm: &ephflow_core::schema::model::VmConfig,
    reaper: &ReaperOptions,
    oidc: bool,
) -> Result<RenderedFile, RenderError> {
    let server_name = w
        .vm_actions()
        .next()
        .map(|(_, a)| a.faas_server.clone())
        .or_else(|| {
            w.compute_servers
                .iter()
                .find(|(_, s)| s.faas_type == FaaSType::GitHubActions)
                .map(|(n, _)| n.clone())
        });
    let Some((server_name, server)) = server_name
        .and_then(|n| w.compute_servers.get(&n).map(|s| (n, s)))
        .filter(|(_, s)| s.faas_type == FaaSType::GitHubActions)
    else {
        return Err(RenderError::NoReaperServer);
    };
    let payload_url = format!(
        "{}/{}/{}/{}",
        server.user_name.as_deref().unwrap_or_default(),
        server.action_repo_name.as_deref().unwrap_or_default(),
        server.branch.as_deref().unwrap_or("main"),
        reaper.payload_path
    );
    check_expression("the reaper image", &reaper.image)?;
    // The parts first, so that the error names the field to change.
    for (field, value) in [
        ("UserName", &server.user_name),
        ("ActionRepoName", &server.action_repo_name),
        ("Branch", &server.branch),
    ] {
        check_expression(
            &format!("ComputeServers.{server_name}.{field}"),
            value.as_deref().unwrap_or_default(),
        )?;
    }
    check_expression("the payload path", &reaper.payload_path)?;
    check_expression("the payload URL", &payload_url)?;
    check_expression(&format!("ComputeServers.{server_name}"), &server_name)?;
    let mut env = Map::new();
    let wanted: Vec<String> = derived_secret_names(w)
        .into_iter()
        .filter(|(_, from)| {
            // With OIDC the reaper assumes the role: no VM key.
            (from == "VMConfig.Name" && !oidc) || from.starts_with("ComputeServers.")
        })
        .map(|(name, _)| name)
        .filter(|name| name.ends_with("_PAT") || name.starts_with(&format!("{}_", vm.name)))
        .collect();
    for name in wanted {
        if !is_portable_secret_name(&name) {
            return Err(RenderError::SecretName {
                name,
                from: "VMConfig.Name".into(),
            });
        }
        env.insert(name.clone(), secret_ref(&name));
    }
    env.insert("PAYLOAD_URL".into(), json!(payload_url));
    env.insert("EPHFLOW_SERVER".into(), json!(server_name));
    let title = format!("{}-ephflow-reaper", w.workflow_name);
    let doc = json!({
        "name": title,
        "on": {"schedule": [{"cron": "*/10 * * * *"}], "workflow_dispatch": {}},
        "permissions": if oidc {
            json!({"contents": "read", "actions": "read", "id-token": "write"})
        } else {
            json!({"contents": "read", "actions": "read"})
        },
        "concurrency": {"group": title, "cancel-in-progress": false},
        "jobs": {"reap": {
            "runs-on": "ubuntu-latest",
            "timeout-minutes": 10,
            "container": reaper.image,
            "env": env,
            "steps": [{"name": "Stop the VM if nothing uses it", "run": "ephflow vm reap\n"}],
        }},
    });
    Ok(RenderedFile {
        name: format!("{title}.yml"),
        text: serde_saphyr::to_string(&doc).expect("JSON values serialize to YAML"),
    })
}
