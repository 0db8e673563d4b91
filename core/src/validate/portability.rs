//! Names and values FaaSr's schema accepts but that cannot reach the platforms intact: secret
//! names GitHub and environments refuse, and `${{`, which GitHub Actions would evaluate in a
//! rendered workflow file. `register` refuses both; validation warns first, naming the entry
//! to change, so the problem shows up in the editor rather than at registration.

use ephflow_schema::Diagnostic;
use ephflow_schema::model::Workflow;
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
                    "{what} contains \"${{{{\", which GitHub Actions would evaluate in the rendered workflow; `ephflow register` will refuse it"
                ),
            )
            .expected("a literal value")
            .hint("write the value itself; secrets travel as repository secrets, not in the workflow"),
        );
    }
}
