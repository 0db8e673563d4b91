//! An independent check of an augmentation's promises, for tests and for tools that embed
//! ephflow: it re-derives every execution of the augmented workflow and looks at what runs.

use ephflow_schema::model::Workflow;
use ephflow_schema::names::{INJECTED_POLL, INJECTED_START, INJECTED_STOP};

use super::{Augmented, Strategy};
use crate::graph::Graph;
use crate::scenarios;

/// Checks that `augmented` (the result of applying `a` to `original`):
/// - changes original actions only in `InvokeNext`, and adds only injected actions;
/// - starts at `faasr-vm-start`;
/// - (parallel) reaches each VM action only through its own poll, which releases only it;
///   (sequential) runs the single poll before anything else;
/// - in every execution runs exactly one stop, after every other action that runs, except
///   in the executions `a` reported as uncovered, where none runs.
///
/// Returns every broken promise.
pub fn verify(original: &Workflow, augmented: &Workflow, a: &Augmented) -> Result<(), Vec<String>> {
    let mut problems = Vec::new();
    for (name, before) in &original.action_list {
        match augmented.action_list.get(name) {
            None => problems.push(format!("action {name} disappeared")),
            Some(after) => {
                let mut expected = before.clone();
                expected.invoke_next = after.invoke_next.clone();
                if &expected != after {
                    problems.push(format!("action {name} changed beyond InvokeNext"));
                }
            }
        }
    }
    for (name, action) in &augmented.action_list {
        if !original.action_list.contains_key(name) && !action.is_builtin() {
            problems.push(format!("added action {name} is not marked _faasr_builtin"));
        }
    }
    if a.is_unchanged() {
        if original != augmented {
            problems.push("nothing to inject, yet the workflow changed".to_owned());
        }
        return finish(problems);
    }
    if augmented.function_invoke != INJECTED_START {
        problems.push(format!("FunctionInvoke is {}", augmented.function_invoke));
    }

    let g = Graph::build(augmented);
    let Ok(order) = g.topological_order() else {
        problems.push("the augmented workflow has a cycle".to_owned());
        return finish(problems);
    };
    let vm: Vec<&str> = original.vm_actions().map(|(n, _)| n).collect();
    match a.strategy {
        Strategy::Parallel => {
            for x in &vm {
                let id = g.id(x).expect("original actions are kept");
                let poll = format!("{INJECTED_POLL}-{x}");
                let preds: Vec<&str> = g.predecessors(id).iter().map(|&p| g.name(p)).collect();
                if preds != [poll.as_str()] {
                    problems.push(format!(
                        "VM action {x} is reached from {preds:?}, not only {poll}"
                    ));
                }
                let released: Vec<&str> = g
                    .id(&poll)
                    .map(|p| g.out_edges(p).iter().map(|e| g.name(e.to)).collect())
                    .unwrap_or_default();
                if released != [*x] {
                    problems.push(format!("{poll} releases {released:?}"));
                }
            }
        }
        Strategy::Sequential => {
            let start = g.id(INJECTED_START).expect("start exists");
            let next: Vec<&str> = g.out_edges(start).iter().map(|e| g.name(e.to)).collect();
            if next != [INJECTED_POLL] {
                problems.push(format!(
                    "{INJECTED_START} invokes {next:?}, not {INJECTED_POLL}"
                ));
            }
        }
    }

    let rc = g.run_conditions(&order);
    let all = match scenarios::enumerate(&g, &order, &rc, usize::MAX) {
        Ok(s) => s,
        Err(e) => {
            problems.push(e.to_string());
            return finish(problems);
        }
    };
    let stops: Vec<usize> = (0..g.len())
        .filter(|&n| g.name(n).starts_with(INJECTED_STOP))
        .collect();
    let literals: Vec<Option<Vec<_>>> = (0..g.len()).map(|n| rc.literals(n)).collect();
    for i in 0..all.len() {
        let decisions = all.decisions(i);
        let runs = |n: usize| {
            literals[n]
                .as_ref()
                .is_some_and(|c| c.iter().all(|l| decisions.contains(l)))
        };
        let mut path: Vec<(String, _)> = decisions
            .iter()
            .map(|&(n, b)| (g.name(n).to_owned(), b))
            .collect();
        path.sort();
        let running_stops: Vec<usize> = stops.iter().copied().filter(|&n| runs(n)).collect();
        let uncovered = a.uncovered.iter().any(|u| {
            let mut u = u.clone();
            u.sort();
            u == path
        });
        let expected = usize::from(!uncovered);
        if running_stops.len() != expected {
            let names: Vec<&str> = running_stops.iter().map(|&n| g.name(n)).collect();
            problems.push(format!(
                "path {path:?}: stops {names:?} run, expected {expected}"
            ));
            continue;
        }
        if let Some(&stop) = running_stops.first() {
            // Last: every other running action must precede the stop through actions that run
            // (FaaSr waits only for predecessors that complete).
            let mut ancestor = vec![false; g.len()];
            let mut stack = vec![stop];
            while let Some(n) = stack.pop() {
                for e in g.in_edges(n) {
                    if !ancestor[e.from] && runs(e.from) {
                        ancestor[e.from] = true;
                        stack.push(e.from);
                    }
                }
            }
            for n in (0..g.len()).filter(|&n| n != stop && runs(n) && !ancestor[n]) {
                problems.push(format!(
                    "path {path:?}: {} may still run when {} runs",
                    g.name(n),
                    g.name(stop)
                ));
            }
        }
    }
    finish(problems)
}

fn finish(problems: Vec<String>) -> Result<(), Vec<String>> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}
