//! Rewiring: where the polls go, and the edges into the stops.

use ephflow_schema::model::{
    ActionRef, Branch, ConditionalBranches, InvokeItem, InvokeNext, Workflow,
};
use ephflow_schema::names::INJECTED_POLL;
use indexmap::IndexMap;

use super::Strategy;
use super::teardown::PlannedStop;
use crate::graph::{Graph, NodeId};

/// The new edges.
pub(super) struct Wiring {
    /// What the start action invokes.
    pub start_next: String,
    /// Each poll and the (possibly ranked) action it releases, in VM-action order.
    pub polls: Vec<(String, InvokeItem)>,
    /// Original actions whose InvokeNext changes.
    pub invoke_next: IndexMap<String, InvokeNext>,
    /// The VM actions now held until the VM is ready.
    pub gated: Vec<String>,
}

/// A plain InvokeNext item naming an action (injected names always parse).
pub(super) fn item(name: &str) -> InvokeItem {
    InvokeItem::Action(ActionRef::plain(name).expect("injected and action names are valid refs"))
}

fn poll_name(action: &str) -> String {
    format!("{INJECTED_POLL}-{action}")
}

pub(super) fn wire(
    workflow: &Workflow,
    graph: &Graph<'_>,
    entry: NodeId,
    strategy: Strategy,
    stops: &[PlannedStop],
) -> Wiring {
    let gated: Vec<String> = workflow.vm_actions().map(|(n, _)| n.to_owned()).collect();
    let entry_name = graph.name(entry);
    let mut polls: IndexMap<String, InvokeItem> = IndexMap::new();
    let mut lists: IndexMap<String, Vec<InvokeItem>> = IndexMap::new();

    let start_next = match strategy {
        Strategy::Sequential => {
            polls.insert(INJECTED_POLL.to_owned(), item(entry_name));
            INJECTED_POLL.to_owned()
        }
        Strategy::Parallel => {
            for vm in &gated {
                polls.insert(poll_name(vm), item(vm));
            }
            if gated.iter().any(|g| g == entry_name) {
                poll_name(entry_name)
            } else {
                entry_name.to_owned()
            }
        }
    };

    // Only the actions that gain or change an edge are rewritten: predecessors of VM actions
    // (parallel) and the ends that precede a stop.
    let mut touched: Vec<NodeId> = stops
        .iter()
        .flat_map(|s| s.after.iter().map(|e| e.action))
        .collect();
    if strategy == Strategy::Parallel {
        for vm in &gated {
            let id = graph.id(vm).expect("VM actions are actions");
            touched.extend(graph.in_edges(id).iter().map(|e| e.from));
        }
    }
    touched.sort_unstable();
    touched.dedup();

    for &i in &touched {
        let (name, action) = workflow
            .action_list
            .get_index(i)
            .expect("graph ids index ActionList");
        let mut items: Vec<InvokeItem> = action
            .invoke_next
            .as_ref()
            .map(|n| n.items().to_vec())
            .unwrap_or_default();
        if strategy == Strategy::Parallel {
            let mut redirect = |r: &mut ActionRef| {
                if let Some(poll) = polls.get_mut(&poll_name(r.name())) {
                    // The poll releases the action with the rank the edge asked for.
                    if r.rank().is_some() {
                        *poll = InvokeItem::Action(r.clone());
                    }
                    *r = ActionRef::plain(&poll_name(r.name())).expect("poll names are valid");
                }
            };
            for it in &mut items {
                match it {
                    InvokeItem::Action(r) => redirect(r),
                    InvokeItem::Conditional(c) => {
                        for list in [&mut c.on_true, &mut c.on_false].into_iter().flatten() {
                            list.iter_mut().for_each(&mut redirect);
                        }
                    }
                }
            }
        }
        lists.insert(name.clone(), items);
    }

    for stop in stops {
        for end in &stop.after {
            let name = graph.name(end.action);
            let items = lists.get_mut(name).expect("ends are actions");
            let stop_ref = ActionRef::plain(&stop.name).expect("stop names are valid");
            match end.on {
                None => items.push(InvokeItem::Action(stop_ref)),
                Some(branch) => add_to_branch(items, branch, stop_ref),
            }
        }
    }

    let invoke_next = lists
        .into_iter()
        .map(|(name, items)| (name, InvokeNext::List(items)))
        .collect();
    Wiring {
        start_next,
        polls: polls.into_iter().collect(),
        invoke_next,
        gated,
    }
}

/// Appends `target` to the `branch` list of the conditional object (creating the list, or
/// the object, when missing).
fn add_to_branch(items: &mut Vec<InvokeItem>, branch: Branch, target: ActionRef) {
    let conditional = items.iter_mut().find_map(|it| match it {
        InvokeItem::Conditional(c) => Some(c),
        InvokeItem::Action(_) => None,
    });
    let c = match conditional {
        Some(c) => c,
        None => {
            items.push(InvokeItem::Conditional(ConditionalBranches::default()));
            match items.last_mut() {
                Some(InvokeItem::Conditional(c)) => c,
                _ => unreachable!("just pushed a conditional"),
            }
        }
    };
    let list = match branch {
        Branch::True => &mut c.on_true,
        Branch::False => &mut c.on_false,
    };
    list.get_or_insert_with(Vec::new).push(target);
}
