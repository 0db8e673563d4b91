//! The VM rules: who may require the VM, what must describe it, which names are reserved.

use ephflow_schema::Diagnostic;
use ephflow_schema::model::{FaaSType, Workflow};
use ephflow_schema::names::{self, INJECTED_POLL, INJECTED_START, INJECTED_STOP};
use ephflow_schema::pointer::from_tokens;

use super::{hint_for, listing, misspelt_top_level, one_of};

pub(super) fn check(w: &Workflow, providers: &[&str], out: &mut Vec<Diagnostic>) {
    let mut vm_actions = 0;
    for (name, action) in &w.action_list {
        if names::is_injected_name(name) && !action.is_builtin() {
            out.push(
                Diagnostic::error(
                    "reserved-name",
                    from_tokens(["ActionList", name]),
                    format!("the name \"{name}\" is reserved for injected VM lifecycle actions"),
                )
                .expected(format!(
                    "a name other than {INJECTED_START}, {INJECTED_STOP}* or {INJECTED_POLL}*"
                ))
                .hint("rename the action (and every reference to it)"),
            );
        }
        if !action.requires_vm() {
            continue;
        }
        vm_actions += 1;
        let at = from_tokens(["ActionList", name, "RequiresVM"]);
        if let Some(server) = w.compute_servers.get(&action.faas_server)
            && server.faas_type != FaaSType::GitHubActions
        {
            out.push(
                Diagnostic::error(
                    "vm-action-not-on-github-actions",
                    at.clone(),
                    format!(
                        "RequiresVM is set but the action runs on \"{}\", a {} server; only actions on GitHubActions servers can run on the VM",
                        action.faas_server, server.faas_type
                    ),
                )
                .expected("FaaSServer naming a GitHubActions server")
                .hint(github_servers_hint(w)),
            );
        }
        if w.vm_config.is_none() {
            out.push(
                Diagnostic::error(
                    "vm-config-missing",
                    at,
                    "RequiresVM is set but the workflow has no VMConfig describing the VM",
                )
                .expected("a top-level VMConfig with Name, Provider and the provider's fields")
                .hint(misspelt_top_level(w, "VMConfig").unwrap_or_else(|| {
                    "add VMConfig (see `ephflow schema`), or drop RequiresVM".to_owned()
                })),
            );
        }
    }

    let Some(vm) = &w.vm_config else { return };
    if vm_actions == 0 {
        out.push(
            Diagnostic::warning(
                "vm-config-unused",
                "/VMConfig",
                "VMConfig is set but no action has RequiresVM: true, so the VM is never used",
            )
            .hint(
                "mark the actions that need the VM with \"RequiresVM\": true, or remove VMConfig",
            ),
        );
    }
    if !providers.contains(&vm.provider.as_str()) {
        out.push(
            Diagnostic::error(
                "unknown-provider",
                "/VMConfig/Provider",
                format!(
                    "Provider \"{}\" is not a registered VM provider",
                    vm.provider
                ),
            )
            .expected(one_of(providers, "the provider registry"))
            .hint(hint_for(
                &vm.provider,
                providers,
                "use a registered provider, or link the crate that provides this one".to_owned(),
            )),
        );
    }
}

fn github_servers_hint(w: &Workflow) -> String {
    let gh: Vec<&str> = w
        .compute_servers
        .iter()
        .filter(|(_, s)| s.faas_type == FaaSType::GitHubActions)
        .map(|(n, _)| n.as_str())
        .collect();
    if gh.is_empty() {
        "add a GitHubActions compute server and move the action to it, or drop RequiresVM"
            .to_owned()
    } else {
        format!(
            "set FaaSServer to {} or drop RequiresVM",
            listing(&gh).replace(" and ", " or ")
        )
    }
}
