//! Where the stop actions go: one per distinct set of actions that end an execution, wired so
//! that exactly one stop runs in each execution, after everything else.
//!
//! FaaSr runs an action once all its predecessors have completed, so a stop whose
//! predecessors are the ends of one execution runs when that execution is over. Two things
//! can spoil it, and both are reported instead of emitted: a stop would need a conditional and
//! an unconditional trigger at once (FaaSr forbids that mix), or its predecessors also all run
//! in another execution, where it would fire early.

use std::collections::HashMap;

use ephflow_schema::Diagnostic;
use ephflow_schema::model::Branch;

use crate::graph::{Graph, NodeId, RunConditions};
use crate::scenarios::{End, Scenario};

/// A stop action to inject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStop {
    /// Its name (`faasr-vm-stop`, `faasr-vm-stop-2`, ...).
    pub name: String,
    /// Its predecessors: the actions that end the executions it covers.
    pub after: Vec<End>,
    /// Indexes of the executions (in enumeration order) in which it runs.
    pub scenarios: Vec<usize>,
}

/// The stops, and the executions no stop can cleanly follow.
#[derive(Debug, Clone, Default)]
pub struct TeardownPlan {
    /// Stops in naming order.
    pub stops: Vec<PlannedStop>,
    /// Warnings naming each execution left without a stop, and why.
    pub warnings: Vec<Diagnostic>,
    /// The executions left without a stop, by their decisions.
    pub uncovered: Vec<Vec<(NodeId, Branch)>>,
}

/// Plans the stops for `scenarios` (from [`crate::scenarios::enumerate`]).
pub fn plan(
    graph: &Graph<'_>,
    conditions: &RunConditions,
    scenarios: &[Scenario],
    stop_name: &str,
) -> TeardownPlan {
    // Distinct end sets, in the order their first execution was enumerated.
    let mut groups: Vec<(Vec<End>, Vec<usize>)> = Vec::new();
    let mut index: HashMap<Vec<End>, usize> = HashMap::new();
    for (i, s) in scenarios.iter().enumerate() {
        match index.get(&s.ends) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(s.ends.clone(), groups.len());
                groups.push((s.ends.clone(), vec![i]));
            }
        }
    }

    let mut plan = TeardownPlan::default();
    for (ends, covered) in groups {
        let path = describe_path(graph, &scenarios[covered[0]]);
        if ends.is_empty() {
            continue;
        }
        if ends.len() > 1 && ends.iter().any(|e| e.on.is_some()) {
            let conditional = ends.iter().find(|e| e.on.is_some()).expect("checked above");
            plan.warnings.push(
                Diagnostic::warning(
                    "no-clean-stop",
                    "/ActionList",
                    format!(
                        "no vm_stop can follow the execution where {path}: it ends with \"{}\" returning {} (an empty branch) while {} also end it, and FaaSr cannot wait for a conditional and an unconditional trigger at once; the VM is left running on that path",
                        graph.name(conditional.action),
                        conditional.on.expect("conditional end"),
                        others(graph, &ends, conditional.action),
                    ),
                )
                .hint(format!(
                    "give the empty {} branch of \"{}\" an action to run",
                    conditional.on.expect("conditional end"),
                    graph.name(conditional.action)
                )),
            );
            uncover(&mut plan, scenarios, &covered);
            continue;
        }
        let fires = fire_condition(conditions, &ends);
        if let Some(other) = (0..scenarios.len())
            .filter(|i| !covered.contains(i))
            .find(|&i| holds(&fires, &scenarios[i]))
        {
            plan.warnings.push(
                Diagnostic::warning(
                    "no-clean-stop",
                    "/ActionList",
                    format!(
                        "no vm_stop can follow the execution where {path}: it ends with {}, which all run in the execution where {} as well, so a stop after them would stop the VM too early there; when {path}, the VM is left running",
                        names(graph, &ends),
                        describe_path(graph, &scenarios[other]),
                    ),
                )
                .hint(distinguish(graph, &scenarios[covered[0]], &scenarios[other])),
            );
            uncover(&mut plan, scenarios, &covered);
            continue;
        }
        let name = match plan.stops.len() {
            0 => stop_name.to_owned(),
            n => format!("{stop_name}-{}", n + 1),
        };
        plan.stops.push(PlannedStop {
            name,
            after: ends,
            scenarios: covered,
        });
    }
    plan
}

/// How to tell two executions apart: the first conditional they disagree on.
fn distinguish(graph: &Graph<'_>, mine: &Scenario, other: &Scenario) -> String {
    mine.decisions
        .iter()
        .find(|&&(n, b)| other.decisions.contains(&(n, b.other())))
        .map(|&(n, b)| {
            format!(
                "give the {b} branch of \"{}\" an action of its own (for example a final step), so the execution where it returns {b} has an end no other execution runs",
                graph.name(n)
            )
        })
        .unwrap_or_else(|| "give each outcome of the conditionals on that path its own final action".to_owned())
}

fn uncover(plan: &mut TeardownPlan, scenarios: &[Scenario], covered: &[usize]) {
    plan.uncovered
        .extend(covered.iter().map(|&i| scenarios[i].decisions.clone()));
}

/// The outcomes under which all of `ends` run (and, for a conditional end, return its branch).
fn fire_condition(conditions: &RunConditions, ends: &[End]) -> Vec<(NodeId, Branch)> {
    let mut all: Vec<(NodeId, Branch)> = Vec::new();
    for e in ends {
        if let Some(c) = &conditions.conditions[e.action] {
            all.extend_from_slice(c.literals());
        }
        if let Some(b) = e.on {
            all.push((e.action, b));
        }
    }
    all.sort();
    all.dedup();
    all
}

fn holds(condition: &[(NodeId, Branch)], scenario: &Scenario) -> bool {
    condition.iter().all(|l| scenario.decisions.contains(l))
}

/// "check-anoxia returns False and rfunc returns True", or "the workflow runs" without
/// conditionals.
pub fn describe_path(graph: &Graph<'_>, scenario: &Scenario) -> String {
    if scenario.decisions.is_empty() {
        return "the workflow runs (it has no conditional that matters)".to_owned();
    }
    scenario
        .decisions
        .iter()
        .map(|&(n, b)| format!("\"{}\" returns {b}", graph.name(n)))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn names(graph: &Graph<'_>, ends: &[End]) -> String {
    let quoted: Vec<String> = ends
        .iter()
        .map(|e| format!("\"{}\"", graph.name(e.action)))
        .collect();
    quoted.join(", ")
}

fn others(graph: &Graph<'_>, ends: &[End], except: NodeId) -> String {
    let rest: Vec<End> = ends
        .iter()
        .copied()
        .filter(|e| e.action != except)
        .collect();
    names(graph, &rest)
}
