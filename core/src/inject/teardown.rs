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

use crate::conditions::{ALWAYS, CondId, Literal, RunConditions};
use crate::graph::{Graph, NodeId};
use crate::scenarios::{End, Scenarios, TooManyScenarios, where_holds};

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
    pub uncovered: Vec<Vec<Literal>>,
}

/// Plans the stops for `scenarios` (from [`crate::scenarios::enumerate`] on the same graph
/// and conditions).
pub fn plan(
    graph: &Graph<'_>,
    order: &[NodeId],
    conditions: &mut RunConditions,
    scenarios: &Scenarios,
    stop_name: &str,
) -> Result<TeardownPlan, TooManyScenarios> {
    // Distinct end sets, in the order their first execution was enumerated.
    let mut groups: Vec<(&[End], Vec<usize>)> = Vec::new();
    let mut index: HashMap<&[End], usize> = HashMap::new();
    for (i, s) in scenarios.list.iter().enumerate() {
        match index.get(s.ends.as_slice()) {
            Some(&g) => groups[g].1.push(i),
            None => {
                index.insert(&s.ends, groups.len());
                groups.push((&s.ends, vec![i]));
            }
        }
    }

    let mut plan = TeardownPlan::default();
    // Stops that FaaSr can express, with the conjunction under which they would fire.
    let mut candidates: Vec<(&[End], Vec<usize>, CondId)> = Vec::new();
    for (ends, covered) in groups {
        if ends.is_empty() {
            continue;
        }
        if ends.len() > 1
            && let Some(conditional) = ends.iter().find(|e| e.on.is_some())
        {
            let path = describe_path(graph, &scenarios.decisions(covered[0]));
            let branch = conditional.on.expect("found by on.is_some()");
            plan.warnings.push(
                Diagnostic::warning(
                    "no-clean-stop",
                    "/ActionList",
                    format!(
                        "no vm_stop can follow the execution where {path}: it ends with \"{}\" returning {branch} (an empty branch) while {} also end it, and FaaSr cannot wait for a conditional and an unconditional trigger at once; when {path}, the VM is left running",
                        graph.name(conditional.action),
                        others(graph, ends, conditional.action),
                    ),
                )
                .hint(format!(
                    "give the empty {branch} branch of \"{}\" an action to run",
                    graph.name(conditional.action)
                )),
            );
            uncover(&mut plan, scenarios, &covered);
            continue;
        }
        let fires = fire_condition(conditions, ends);
        candidates.push((ends, covered, fires));
    }

    let watched: Vec<CondId> = candidates.iter().map(|c| c.2).collect();
    let hits = where_holds(graph, order, conditions, &watched, usize::MAX)?;
    for ((ends, covered, _), hits) in candidates.into_iter().zip(hits) {
        // Both lists are sorted: a hit outside `covered` is an execution where this stop
        // would also run.
        if let Some(&other) = hits.iter().find(|h| covered.binary_search(h).is_err()) {
            let (mine, theirs) = (scenarios.decisions(covered[0]), scenarios.decisions(other));
            let path = describe_path(graph, &mine);
            plan.warnings.push(
                Diagnostic::warning(
                    "no-clean-stop",
                    "/ActionList",
                    format!(
                        "no vm_stop can follow the execution where {path}: it ends with {}, which all run in the execution where {} as well, so a stop after them would stop the VM too early there; when {path}, the VM is left running",
                        names(graph, ends),
                        describe_path(graph, &theirs),
                    ),
                )
                .hint(distinguish(graph, &mine, &theirs)),
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
            after: ends.to_vec(),
            scenarios: covered,
        });
    }
    Ok(plan)
}

/// The conjunction under which all of `ends` run (and each conditional end returns its
/// branch): when a stop after them fires.
fn fire_condition(conditions: &mut RunConditions, ends: &[End]) -> CondId {
    let mut fires = ALWAYS;
    for e in ends {
        let mut c = conditions.of[e.action].expect("ends run");
        if let Some(b) = e.on {
            c = conditions
                .table
                .extend(c, (e.action, b))
                .expect("an action's own outcome never clashes with its condition");
        }
        fires = conditions
            .table
            .union(fires, c)
            .expect("the ends of one execution run together");
    }
    fires
}

/// How to tell two executions apart: the first conditional they disagree on.
fn distinguish(graph: &Graph<'_>, mine: &[Literal], other: &[Literal]) -> String {
    mine.iter()
        .find(|&&(n, b)| other.contains(&(n, b.other())))
        .map(|&(n, b)| {
            format!(
                "give the {b} branch of \"{}\" an action of its own (for example a final step), so the execution where it returns {b} has an end no other execution runs",
                graph.name(n)
            )
        })
        .unwrap_or_else(|| "give each outcome of the conditionals on that path its own final action".to_owned())
}

fn uncover(plan: &mut TeardownPlan, scenarios: &Scenarios, covered: &[usize]) {
    plan.uncovered
        .extend(covered.iter().map(|&i| scenarios.decisions(i)));
}

/// "\"check-anoxia\" returns False and \"rfunc\" returns True".
pub fn describe_path(graph: &Graph<'_>, decisions: &[Literal]) -> String {
    if decisions.is_empty() {
        return "the workflow runs (it has no conditional that matters)".to_owned();
    }
    decisions
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
