//! Pictures of a workflow: Mermaid (renders on GitHub) and Graphviz DOT.
//!
//! VM actions and injected lifecycle actions are styled apart, conditional edges carry their
//! branch, ranked edges their copy count, and the entry is marked.

use std::fmt::Write;

use ephflow_schema::model::{Branch, Workflow};
use ephflow_schema::names;

use crate::graph::Graph;

/// What an action is, for styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Plain,
    Vm,
    Lifecycle,
}

fn role(workflow: &Workflow, name: &str) -> Role {
    let action = &workflow.action_list[name];
    if action.is_builtin() || names::is_injected_name(name) {
        Role::Lifecycle
    } else if action.requires_vm() {
        Role::Vm
    } else {
        Role::Plain
    }
}

/// The edge label: the branch, the rank, both, or nothing.
fn edge_label(branch: Option<Branch>, rank: Option<u32>) -> Option<String> {
    match (branch, rank) {
        (None, None) => None,
        (Some(b), None) => Some(b.to_string()),
        (None, Some(r)) => Some(format!("×{r}")),
        (Some(b), Some(r)) => Some(format!("{b} ×{r}")),
    }
}

/// A Mermaid flowchart.
pub fn mermaid(workflow: &Workflow) -> String {
    let g = Graph::build(workflow);
    let mut out = String::from("flowchart TD\n");
    for (i, (name, action)) in workflow.action_list.iter().enumerate() {
        let r = role(workflow, name);
        let detail = match r {
            Role::Vm => format!("{} · VM", action.faas_server),
            _ => action.faas_server.clone(),
        };
        let (open, close) = match r {
            Role::Lifecycle => ("([", "])"),
            _ => ("[", "]"),
        };
        let class = match r {
            Role::Plain => "",
            Role::Vm => ":::vm",
            Role::Lifecycle => ":::lifecycle",
        };
        let _ = writeln!(
            out,
            "    n{i}{open}\"{name}<br/><small>{detail}</small>\"{close}{class}"
        );
    }
    for n in 0..g.len() {
        for e in g.out_edges(n) {
            let _ = match edge_label(e.branch, e.rank) {
                None => writeln!(out, "    n{} --> n{}", e.from, e.to),
                Some(l) => writeln!(out, "    n{} -- \"{l}\" --> n{}", e.from, e.to),
            };
        }
    }
    if let Some(entry) = g.id(&workflow.function_invoke) {
        let _ = writeln!(out, "    style n{entry} stroke-width:3px");
    }
    out.push_str("    classDef vm fill:#fde2e1,stroke:#c0392b,stroke-width:2px\n");
    out.push_str("    classDef lifecycle fill:#e1ecfd,stroke:#2c6fbb,stroke-dasharray:4 2\n");
    out
}

fn dot_quote(s: &str) -> String {
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// A Graphviz digraph.
pub fn dot(workflow: &Workflow) -> String {
    let g = Graph::build(workflow);
    let mut out = format!(
        "digraph {} {{\n    rankdir=TB;\n    node [shape=box, style=rounded, fontname=Helvetica];\n    edge [fontname=Helvetica];\n",
        dot_quote(&workflow.workflow_name)
    );
    for (name, action) in &workflow.action_list {
        let r = role(workflow, name);
        let mut attrs = match r {
            Role::Plain => format!(
                "label={}",
                dot_quote(&format!("{name}\n{}", action.faas_server))
            ),
            Role::Vm => format!(
                "label={}, style=\"rounded,filled\", fillcolor=\"#fde2e1\", color=\"#c0392b\", penwidth=2",
                dot_quote(&format!("{name}\n{} · VM", action.faas_server))
            ),
            Role::Lifecycle => format!(
                "label={}, shape=ellipse, style=\"filled,dashed\", fillcolor=\"#e1ecfd\", color=\"#2c6fbb\"",
                dot_quote(&format!("{name}\n{}", action.faas_server))
            ),
        };
        if *name == workflow.function_invoke {
            attrs.push_str(", peripheries=2");
        }
        let _ = writeln!(out, "    {} [{attrs}];", dot_quote(name));
    }
    for n in 0..g.len() {
        for e in g.out_edges(n) {
            let (from, to) = (dot_quote(g.name(e.from)), dot_quote(g.name(e.to)));
            let _ = match edge_label(e.branch, e.rank) {
                None => writeln!(out, "    {from} -> {to};"),
                Some(l) => writeln!(out, "    {from} -> {to} [label={}];", dot_quote(&l)),
            };
        }
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn workflow() -> Workflow {
        serde_json::from_value(json!({
            "WorkflowName": "w", "FunctionInvoke": "a", "DefaultDataStore": "S3",
            "ActionList": {
                "a": {"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": ["b(3)", {"True": ["c"]}]},
                "b": {"FunctionName": "f", "FaaSServer": "GH", "RequiresVM": true},
                "c": {"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": ["faasr-vm-stop"]},
                "faasr-vm-stop": {"FunctionName": "vm_stop", "FaaSServer": "GH", "_faasr_builtin": true}
            },
            "ComputeServers": {"GH": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r"}},
            "DataStores": {"S3": {"Bucket": "b"}}
        }))
        .unwrap()
    }

    #[test]
    fn mermaid_styles_roles_and_labels_edges() {
        let m = mermaid(&workflow());
        assert!(m.starts_with("flowchart TD\n"));
        assert!(
            m.contains("n1[\"b<br/><small>GH · VM</small>\"]:::vm"),
            "{m}"
        );
        assert!(
            m.contains("n3([\"faasr-vm-stop<br/><small>GH</small>\"]):::lifecycle"),
            "{m}"
        );
        assert!(m.contains("n0 -- \"×3\" --> n1"), "{m}");
        assert!(m.contains("n0 -- \"True\" --> n2"), "{m}");
        assert!(m.contains("n2 --> n3"), "{m}");
        assert!(m.contains("style n0 stroke-width:3px"), "{m}");
    }

    #[test]
    fn dot_styles_roles_and_labels_edges() {
        let d = dot(&workflow());
        assert!(d.starts_with("digraph \"w\" {"), "{d}");
        assert!(
            d.contains("\"a\" [label=\"a\\nGH\", peripheries=2];"),
            "{d}"
        );
        assert!(
            d.contains("\"b\" [label=\"b\\nGH · VM\", style=\"rounded,filled\""),
            "{d}"
        );
        assert!(d.contains("\"a\" -> \"b\" [label=\"×3\"];"), "{d}");
        assert!(d.contains("\"a\" -> \"c\" [label=\"True\"];"), "{d}");
        assert!(d.trim_end().ends_with('}'));
    }
}
