//! Execution scenarios: which actions run for each combination of conditional outcomes, and
//! which of them end the run.
//!
//! A scenario fixes the outcome of every conditional action that runs in it. Scenarios are
//! enumerated as a decision tree over the conditional actions in topological order, so a
//! conditional that does not run in a scenario is never branched on: the count is the number
//! of distinct executions, not 2^(number of conditionals). The enumeration is capped; a
//! workflow past the cap is reported, not explored.

use ephflow_schema::model::Branch;

use crate::graph::{Condition, Graph, NodeId, RunConditions};

/// One execution of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// The outcome of each conditional action that runs, in topological order.
    pub decisions: Vec<(NodeId, Branch)>,
    /// The actions that run and trigger nothing that runs, in ActionList order.
    pub ends: Vec<End>,
}

/// An action that ends a scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct End {
    /// The action.
    pub action: NodeId,
    /// `Some(b)` when the action ends only because it returned `b` (its other branch would
    /// have triggered something); anything placed after it must hang off that branch.
    pub on: Option<Branch>,
}

/// Too many distinct executions to analyse one by one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the workflow has more than {limit} distinct execution paths (combinations of conditional outcomes)"
)]
pub struct TooManyScenarios {
    /// The cap that was reached.
    pub limit: usize,
}

/// Default cap on the number of scenarios.
pub const DEFAULT_SCENARIO_LIMIT: usize = 4096;

/// All scenarios of an acyclic graph, True before False at each decision.
pub fn enumerate(
    graph: &Graph<'_>,
    order: &[NodeId],
    conditions: &RunConditions,
    limit: usize,
) -> Result<Vec<Scenario>, TooManyScenarios> {
    let decisions: Vec<NodeId> = order
        .iter()
        .copied()
        .filter(|&n| graph.out_edges(n).iter().any(|e| e.branch.is_some()))
        .collect();
    let candidates: Vec<NodeId> = (0..graph.len())
        .filter(|&n| may_end(graph, conditions, n))
        .collect();
    let mut walk = Walk {
        graph,
        conditions: &conditions.conditions,
        decisions: &decisions,
        candidates: &candidates,
        assigned: vec![None; graph.len()],
        path: Vec::new(),
        out: Vec::new(),
        limit,
    };
    walk.visit(0)?;
    Ok(walk.out)
}

/// Whether `n` can end some scenario: it can run, and no unconditional successor runs
/// whenever it does (the common case of a chain, which this rules out cheaply).
fn may_end(graph: &Graph<'_>, conditions: &RunConditions, n: NodeId) -> bool {
    let Some(own) = &conditions.conditions[n] else {
        return false;
    };
    !graph.out_edges(n).iter().any(|e| {
        e.branch.is_none()
            && conditions.conditions[e.to]
                .as_ref()
                .is_some_and(|c| c.literals() == own.literals())
    })
}

struct Walk<'a, 'g> {
    graph: &'a Graph<'g>,
    conditions: &'a [Option<Condition>],
    decisions: &'a [NodeId],
    candidates: &'a [NodeId],
    assigned: Vec<Option<Branch>>,
    path: Vec<(NodeId, Branch)>,
    out: Vec<Scenario>,
    limit: usize,
}

impl Walk<'_, '_> {
    fn runs(&self, n: NodeId) -> bool {
        self.conditions[n].as_ref().is_some_and(|c| {
            c.literals()
                .iter()
                .all(|&(d, b)| self.assigned[d] == Some(b))
        })
    }

    fn visit(&mut self, from: usize) -> Result<(), TooManyScenarios> {
        let next = (from..self.decisions.len()).find(|&i| self.runs(self.decisions[i]));
        let Some(i) = next else {
            if self.out.len() == self.limit {
                return Err(TooManyScenarios { limit: self.limit });
            }
            let ends = self.ends();
            self.out.push(Scenario {
                decisions: self.path.clone(),
                ends,
            });
            return Ok(());
        };
        let d = self.decisions[i];
        for b in [Branch::True, Branch::False] {
            self.assigned[d] = Some(b);
            self.path.push((d, b));
            let r = self.visit(i + 1);
            self.path.pop();
            self.assigned[d] = None;
            r?;
        }
        Ok(())
    }

    fn ends(&self) -> Vec<End> {
        let mut ends = Vec::new();
        for &n in self.candidates {
            if !self.runs(n) {
                continue;
            }
            let outcome = self.assigned[n];
            let active_runs = self
                .graph
                .out_edges(n)
                .iter()
                .filter(|e| e.branch.is_none() || e.branch == outcome)
                .any(|e| self.runs(e.to));
            if active_runs {
                continue;
            }
            // Would the other outcome have triggered something? Then this end depends on
            // the outcome, and what follows it must hang off the branch taken.
            let on = outcome.filter(|b| {
                self.graph
                    .out_edges(n)
                    .iter()
                    .any(|e| e.branch == Some(b.other()) && self.conditions[e.to].is_some())
            });
            ends.push(End { action: n, on });
        }
        ends
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ephflow_schema::model::Workflow;
    use serde_json::json;

    fn workflow(actions: serde_json::Value) -> Workflow {
        let mut list = serde_json::Map::new();
        for (name, next) in actions.as_object().unwrap() {
            list.insert(
                name.clone(),
                json!({"FunctionName": "f", "FaaSServer": "GH", "InvokeNext": next}),
            );
        }
        serde_json::from_value(json!({
            "WorkflowName": "w", "FunctionInvoke": "a", "DefaultDataStore": "S3",
            "ActionList": list,
            "ComputeServers": {"GH": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r"}},
            "DataStores": {"S3": {"Bucket": "b"}}
        }))
        .unwrap()
    }

    fn scenarios(w: &Workflow) -> (Graph<'_>, Vec<Scenario>) {
        let g = Graph::build(w);
        let order = g.topological_order().unwrap();
        let rc = g.run_conditions(&order);
        let s = enumerate(&g, &order, &rc, 100).unwrap();
        (g, s)
    }

    fn named(g: &Graph<'_>, s: &Scenario) -> Vec<String> {
        s.ends
            .iter()
            .map(|e| match e.on {
                None => g.name(e.action).to_owned(),
                Some(b) => format!("{}@{b}", g.name(e.action)),
            })
            .collect()
    }

    #[test]
    fn no_conditionals_one_scenario_all_leaves() {
        let w = workflow(json!({"a": ["b", "c"], "b": ["d"], "c": [], "d": []}));
        let (g, s) = scenarios(&w);
        assert_eq!(s.len(), 1);
        assert_eq!(named(&g, &s[0]), ["c", "d"]);
    }

    #[test]
    fn exclusive_branches_end_separately() {
        let w = workflow(json!({
            "a": [{"True": ["t"], "False": ["f"]}],
            "t": ["t2"], "t2": [], "f": []
        }));
        let (g, s) = scenarios(&w);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].decisions, vec![(0, Branch::True)]);
        assert_eq!(named(&g, &s[0]), ["t2"]);
        assert_eq!(named(&g, &s[1]), ["f"]);
    }

    #[test]
    fn empty_branch_ends_on_its_outcome() {
        let w = workflow(json!({"a": [{"True": [], "False": ["f"]}], "f": []}));
        let (g, s) = scenarios(&w);
        assert_eq!(named(&g, &s[0]), ["a@True"]);
        assert_eq!(named(&g, &s[1]), ["f"]);
    }

    #[test]
    fn only_running_conditionals_are_branched_on() {
        // c2 runs only when c1 is True: three executions, not four.
        let w = workflow(json!({
            "a": ["c1"],
            "c1": [{"True": ["c2"], "False": ["x"]}],
            "c2": [{"True": ["y"], "False": ["z"]}],
            "x": [], "y": [], "z": []
        }));
        let (g, s) = scenarios(&w);
        let ends: Vec<_> = s.iter().map(|s| named(&g, s)).collect();
        assert_eq!(ends, [vec!["y"], vec!["z"], vec!["x"]]);
    }

    #[test]
    fn join_that_never_runs_leaves_its_feeders_as_ends() {
        let w = workflow(json!({
            "a": [{"True": ["t"], "False": ["f"]}],
            "t": ["j"], "f": ["j"], "j": []
        }));
        let (g, s) = scenarios(&w);
        assert_eq!(named(&g, &s[0]), ["t"]);
        assert_eq!(named(&g, &s[1]), ["f"]);
    }

    #[test]
    fn the_cap_is_enforced() {
        let w = workflow(json!({
            "a": ["p", "q"],
            "p": [{"True": ["p1"], "False": ["p2"]}], "p1": [], "p2": [],
            "q": [{"True": ["q1"], "False": ["q2"]}], "q1": [], "q2": []
        }));
        let g = Graph::build(&w);
        let order = g.topological_order().unwrap();
        let rc = g.run_conditions(&order);
        assert_eq!(enumerate(&g, &order, &rc, 4).unwrap().len(), 4);
        assert_eq!(
            enumerate(&g, &order, &rc, 3).unwrap_err(),
            TooManyScenarios { limit: 3 }
        );
    }
}
