//! Names and values FaaSr's schema accepts but that cannot reach the platforms intact: secret
//! names GitHub and environments refuse, and `${{`, which GitHub Actions would evaluate in a
//! rendered workflow file. `register` refuses both; validation warns first, naming the entry
//! to change, so the problem shows up in the editor rather than at registration.

use ephflow_schema::Diagnostic;
use ephflow_schema::model::{FaaSType, Workflow};
use ephflow_schema::pointer::from_tokens;

use crate::provider::{derived_secrets, is_portable_secret_name};

pub(super) fn check(w: &Workflow, out: &mut Vec<Diagnostic>) {
    let mut reported: Vec<String> = Vec::new();
    for secret in derived_secrets(w) {
        // One warning per culprit, though a name derives two secrets.
        if is_portable_secret_name(&secret.name) || reported.contains(&secret.pointer) {
            continue;
        }
        reported.push(secret.pointer.clone());
        out.push(
            Diagnostic::warning(
                "secret-name",
                secret.pointer,
                format!(
                    "{} gives the secret name \"{}\", which GitHub and environment variables refuse; `ephflow register` will refuse it",
                    secret.from, secret.name
                ),
            )
            .expected("letters, digits and underscores, not starting with a digit")
            .hint(format!("rename {} (and every reference to it)", secret.from)),
        );
    }
    for (name, server) in &w.compute_servers {
        if server.faas_type != FaaSType::GitHubActions {
            continue;
        }
        let fields = [
            ("UserName", server.user_name.as_deref()),
            ("ActionRepoName", server.action_repo_name.as_deref()),
            ("Branch", server.branch.as_deref()),
        ];
        for (field, value) in fields {
            let Some(value) = value else { continue };
            let pointer = from_tokens(["ComputeServers", name, field]);
            expression(
                pointer.clone(),
                value,
                format!("ComputeServers.{name}.{field}"),
                out,
            );
            // PAYLOAD_URL is `<owner>/<repo>/<branch>/<path>`, split at the first three
            // slashes by FaaSr's runtime and by `ephflow action run`: a branch with a slash
            // would be read as a shorter branch and a longer path.
            if field == "Branch" && value.contains('/') {
                out.push(
                    Diagnostic::error(
                        "branch-slash",
                        pointer,
                        format!(
                            "compute server \"{name}\": Branch \"{value}\" has a slash, which FaaSr's PAYLOAD_URL (<owner>/<repo>/<branch>/<path>) cannot carry: every action would read the branch as \"{}\"",
                            value.split('/').next().unwrap_or_default()
                        ),
                    )
                    .expected("a branch name without \"/\"")
                    .hint("register the workflow on a branch without a slash (for example feature-vm)"),
                );
            }
        }
    }
    let containers = w.action_containers.iter().flatten();
    for (action, image) in containers {
        expression(
            from_tokens(["ActionContainers", action]),
            &image.0,
            format!("ActionContainers.{action}"),
            out,
        );
    }
    let labels = w
        .vm_config
        .iter()
        .flat_map(|vm| vm.runner_labels.iter().flatten());
    for (i, label) in labels.enumerate() {
        expression(
            format!("/VMConfig/RunnerLabels/{i}"),
            label,
            "VMConfig.RunnerLabels".to_owned(),
            out,
        );
    }
}

fn expression(pointer: String, value: &str, what: String, out: &mut Vec<Diagnostic>) {
    if value.contains("${{") {
        out.push(
            Diagnostic::warning(
                "ci-expression",
                pointer,
                format!(
                    "{what} contains \"${{{{\", which GitHub Actions would evaluate where it is rendered into a workflow file; `ephflow register` refuses it there"
                ),
            )
            .expected("a literal value")
            .hint("write the value itself; secrets travel as repository secrets, not in the workflow"),
        );
    }
}
