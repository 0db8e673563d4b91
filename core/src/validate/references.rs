//! Every name that points somewhere must point at something that exists.

use ephflow_schema::Diagnostic;
use ephflow_schema::model::{InvokeNext, Workflow};
use ephflow_schema::names;
use ephflow_schema::pointer::from_tokens;

use super::{hint_for, misspelt_top_level, one_of};
use crate::graph::Graph;

pub(super) fn check(w: &Workflow, g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let servers: Vec<&str> = w.compute_servers.keys().map(String::as_str).collect();
    let stores: Vec<&str> = w.data_stores.keys().map(String::as_str).collect();
    let actions: Vec<&str> = w.action_list.keys().map(String::as_str).collect();

    if !w.action_list.contains_key(&w.function_invoke) {
        out.push(
            Diagnostic::error(
                "unknown-entry",
                "/FunctionInvoke",
                format!(
                    "FunctionInvoke names \"{}\", which is not an action in ActionList",
                    w.function_invoke
                ),
            )
            .expected(one_of(&actions, "ActionList"))
            .hint(hint_for(
                &w.function_invoke,
                &actions,
                "set FunctionInvoke to the workflow's first action".to_owned(),
            )),
        );
    }

    for (name, action) in &w.action_list {
        if !w.compute_servers.contains_key(&action.faas_server) {
            out.push(
                Diagnostic::error(
                    "unknown-server",
                    from_tokens(["ActionList", name, "FaaSServer"]),
                    format!(
                        "FaaSServer \"{}\" is not defined in ComputeServers",
                        action.faas_server
                    ),
                )
                .expected(one_of(&servers, "ComputeServers"))
                .hint(hint_for(
                    &action.faas_server,
                    &servers,
                    format!(
                        "add \"{}\" to ComputeServers or use an existing server",
                        action.faas_server
                    ),
                )),
            );
        }
        if let Some(InvokeNext::Bare(_)) = action.invoke_next {
            out.push(
                Diagnostic::warning(
                    "invoke-next-not-array",
                    from_tokens(["ActionList", name, "InvokeNext"]),
                    "InvokeNext is a bare value; the FaaSr runtime accepts it but FaaSr's registration schema does not",
                )
                .hint("wrap it in an array: [ ... ]"),
            );
        }
    }

    for d in g.dangling() {
        out.push(
            Diagnostic::error(
                "unknown-action",
                g.pointer(d.from, d.slot),
                format!(
                    "InvokeNext names \"{}\", which is not an action in ActionList",
                    d.target
                ),
            )
            .expected(one_of(&actions, "ActionList"))
            .hint(hint_for(
                &d.target,
                &actions,
                format!(
                    "define \"{}\" in ActionList or remove it from InvokeNext",
                    d.target
                ),
            )),
        );
    }

    let store_refs = [
        ("DefaultDataStore", Some(&w.default_data_store)),
        (
            "LoggingDataStore",
            w.logging_data_store.as_ref().and_then(Option::as_ref),
        ),
    ];
    for (field, value) in store_refs {
        let Some(store) = value else { continue };
        if !w.data_stores.contains_key(store) {
            out.push(
                Diagnostic::error(
                    "unknown-data-store",
                    format!("/{field}"),
                    format!("{field} \"{store}\" is not defined in DataStores"),
                )
                .expected(one_of(&stores, "DataStores"))
                .hint(hint_for(
                    store,
                    &stores,
                    format!("add \"{store}\" to DataStores"),
                )),
            );
        }
    }
    for field in ["LoggingDataStore", "FaaSrLog"] {
        let present = match field {
            "LoggingDataStore" => w.logging_data_store.is_some(),
            _ => w.faasr_log.is_some(),
        };
        if !present {
            out.push(
                Diagnostic::warning(
                    "missing-log-setting",
                    "",
                    format!("the workflow has no \"{field}\"; the FaaSr runtime reads it in every action"),
                )
                .hint(
                    misspelt_top_level(w, field)
                        .unwrap_or_else(|| format!("add \"{field}\" (null is accepted)")),
                ),
            );
        }
    }

    if let Some(containers) = &w.action_containers {
        for name in containers.keys() {
            // An injected name pins the image of that lifecycle action once augmented.
            let pins_injected = names::is_injected_name(name) && w.vm_actions().next().is_some();
            if !w.action_list.contains_key(name) && !pins_injected {
                out.push(
                    Diagnostic::warning(
                        "unused-container",
                        from_tokens(["ActionContainers", name]),
                        format!("ActionContainers has an entry for \"{name}\", which is not an action; it is ignored"),
                    )
                    .hint(hint_for(name, &actions, "remove the entry".to_owned())),
                );
            }
        }
    }
}
