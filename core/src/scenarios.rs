//! Execution scenarios: which actions run for each combination of conditional outcomes, and
//! which of them end the run.
//!
//! A scenario fixes the outcome of every conditional action that runs in it. Scenarios are
//! enumerated as a decision tree over the conditional actions in topological order, so a
//! conditional that does not run in a scenario is never branched on: the count is the number
//! of distinct executions, not 2^(number of conditionals). The enumeration is capped; a
//! workflow past the cap is reported, not explored.

use std::collections::{BTreeSet, HashMap};

use ephflow_schema::model::Branch;

use crate::conditions::{ALWAYS, CondId, Literal, RunConditions};
use crate::graph::{Graph, NodeId};

/// One execution of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scenario {
    /// Where its decisions end in the decision tree (see [`Scenarios::decisions`]).
    path: u32,
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
pub const DEFAULT_SCENARIO_LIMIT: usize = 100_000;

const NO_PATH: u32 = u32::MAX;

/// Every execution, True before False at each decision.
#[derive(Debug, Clone)]
pub struct Scenarios {
    /// The executions, in enumeration order.
    pub list: Vec<Scenario>,
    /// The decision tree: (parent, outcome) per node.
    tree: Vec<(u32, Literal)>,
}

impl Scenarios {
    /// The outcome of each conditional action that runs in scenario `i`, in topological order.
    pub fn decisions(&self, i: usize) -> Vec<Literal> {
        let mut out = Vec::new();
        let mut at = self.list[i].path;
        while at != NO_PATH {
            let (parent, lit) = self.tree[at as usize];
            out.push(lit);
            at = parent;
        }
        out.reverse();
        out
    }

    /// Number of scenarios.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there is none (never: a workflow has at least one execution).
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// All scenarios of an acyclic graph.
pub fn enumerate(
    graph: &Graph<'_>,
    order: &[NodeId],
    conditions: &RunConditions,
    limit: usize,
) -> Result<Scenarios, TooManyScenarios> {
    let mut walk = Walk::new(graph, order, conditions, &HashMap::new());
    walk.run(limit, true)?;
    Ok(Scenarios {
        list: walk.out,
        tree: walk.tree,
    })
}

/// For each watched conjunction, the scenarios (indexes in [`enumerate`]'s order) in which it
/// holds. The conjunctions must be in `conditions.table`.
pub fn where_holds(
    graph: &Graph<'_>,
    order: &[NodeId],
    conditions: &RunConditions,
    watched: &[CondId],
    limit: usize,
) -> Result<Vec<Vec<usize>>, TooManyScenarios> {
    let mut watch: HashMap<CondId, Vec<usize>> = HashMap::new();
    for (i, &c) in watched.iter().enumerate() {
        watch.entry(c).or_default().push(i);
    }
    let mut walk = Walk::new(graph, order, conditions, &watch);
    walk.hits = vec![Vec::new(); watched.len()];
    walk.run(limit, false)?;
    Ok(walk.hits)
}

/// Whether `n` can end some scenario: it can run, and no unconditional successor runs
/// whenever it does (which rules out the inside of every chain cheaply).
fn may_end(graph: &Graph<'_>, conditions: &RunConditions, n: NodeId) -> bool {
    let Some(own) = conditions.of[n] else {
        return false;
    };
    !graph
        .out_edges(n)
        .iter()
        .any(|e| e.branch.is_none() && conditions.of[e.to] == Some(own))
}

/// How an action that may end a scenario is recognised as an end, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EndKind {
    /// No successors: an end wherever it runs (known as soon as its condition holds).
    Leaf,
    /// Only conditional edges, each to an action that runs exactly when this one takes that
    /// branch: an end when the branch taken has nothing to run (known when it is decided).
    Decision,
    /// Anything else: checked at each leaf of the decision tree.
    General,
}

/// A depth-first walk of the decision tree, with incremental bookkeeping: which conjunctions
/// hold (a trie node holds once its parent holds and its literal is decided that way), which
/// conditional actions run next, and which ends are already known, so a leaf costs about
/// the size of its end set rather than the depth of its path.
struct Walk<'a, 'g> {
    graph: &'a Graph<'g>,
    conditions: &'a RunConditions,
    decisions: Vec<NodeId>,
    /// Trie nodes by their last literal.
    by_literal: HashMap<Literal, Vec<CondId>>,
    decisions_by_cond: Vec<Vec<usize>>,
    /// Leaf and General candidates by condition.
    candidates_by_cond: Vec<Vec<(NodeId, EndKind)>>,
    kind: Vec<Option<EndKind>>,
    watch_by_cond: Vec<Vec<usize>>,
    holds: Vec<bool>,
    holding: Vec<CondId>,
    /// Ends known on the current path, General candidates whose condition holds, and watched
    /// conjunctions that hold (stacks, unwound with the path).
    known_ends: Vec<End>,
    general: Vec<NodeId>,
    watched: Vec<usize>,
    assigned: Vec<Option<Branch>>,
    frontier: BTreeSet<usize>,
    tree: Vec<(u32, Literal)>,
    at: u32,
    out: Vec<Scenario>,
    hits: Vec<Vec<usize>>,
    leaves: usize,
}

struct Frame {
    decision: usize,
    branch: Branch,
    holding_mark: usize,
    ends_mark: usize,
    general_mark: usize,
    watched_mark: usize,
    unlocked: Vec<usize>,
    previous_at: u32,
}

impl<'a, 'g> Walk<'a, 'g> {
    fn new(
        graph: &'a Graph<'g>,
        order: &[NodeId],
        conditions: &'a RunConditions,
        watch: &HashMap<CondId, Vec<usize>>,
    ) -> Self {
        let table = &conditions.table;
        let decisions: Vec<NodeId> = order
            .iter()
            .copied()
            .filter(|&n| graph.out_edges(n).iter().any(|e| e.branch.is_some()))
            .collect();
        let mut by_literal: HashMap<Literal, Vec<CondId>> = HashMap::new();
        for id in 1..table.len() as CondId {
            let lit = table.last(id).expect("only ALWAYS has no literal");
            by_literal.entry(lit).or_default().push(id);
        }
        let mut decisions_by_cond = vec![Vec::new(); table.len()];
        for (i, &d) in decisions.iter().enumerate() {
            if let Some(c) = conditions.of[d] {
                decisions_by_cond[c as usize].push(i);
            }
        }
        let mut candidates_by_cond = vec![Vec::new(); table.len()];
        let mut kind = vec![None; graph.len()];
        for (n, slot) in kind.iter_mut().enumerate() {
            if !may_end(graph, conditions, n) {
                continue;
            }
            let c = conditions.of[n].expect("candidates can run");
            let edges = graph.out_edges(n);
            let k = if edges.is_empty() {
                EndKind::Leaf
            } else if edges.iter().all(|e| match (e.branch, conditions.of[e.to]) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(b), Some(t)) => table.child(c, (n, b)) == Some(t),
            }) {
                EndKind::Decision
            } else {
                EndKind::General
            };
            *slot = Some(k);
            if k != EndKind::Decision {
                candidates_by_cond[c as usize].push((n, k));
            }
        }
        let mut watch_by_cond = vec![Vec::new(); table.len()];
        for (&c, groups) in watch {
            watch_by_cond[c as usize].extend(groups);
        }
        let mut holds = vec![false; table.len()];
        holds[ALWAYS as usize] = true;
        let frontier = decisions_by_cond[ALWAYS as usize].iter().copied().collect();
        let mut walk = Walk {
            graph,
            conditions,
            decisions,
            by_literal,
            decisions_by_cond,
            candidates_by_cond,
            kind,
            watch_by_cond,
            holds,
            holding: vec![ALWAYS],
            known_ends: Vec::new(),
            general: Vec::new(),
            watched: Vec::new(),
            assigned: vec![None; graph.len()],
            frontier,
            tree: Vec::new(),
            at: NO_PATH,
            out: Vec::new(),
            hits: Vec::new(),
            leaves: 0,
        };
        walk.now_holds(ALWAYS);
        walk
    }

    /// Bookkeeping for a conjunction that starts to hold.
    fn now_holds(&mut self, c: CondId) {
        for &(n, k) in &self.candidates_by_cond[c as usize] {
            match k {
                EndKind::Leaf => self.known_ends.push(End {
                    action: n,
                    on: None,
                }),
                _ => self.general.push(n),
            }
        }
        self.watched.extend(&self.watch_by_cond[c as usize]);
    }

    fn runs(&self, n: NodeId) -> bool {
        self.conditions.of[n].is_some_and(|c| self.holds[c as usize])
    }

    /// Explores every leaf of the decision tree, iteratively (chains of thousands of
    /// conditionals must not exhaust the stack).
    fn run(&mut self, limit: usize, collect: bool) -> Result<(), TooManyScenarios> {
        let mut frames: Vec<Frame> = Vec::new();
        'descend: loop {
            if let Some(&next) = self.frontier.iter().next() {
                let frame = self.enter(next, Branch::True);
                frames.push(frame);
                continue;
            }
            if self.leaves == limit {
                return Err(TooManyScenarios { limit });
            }
            self.leaf(collect);
            while let Some(frame) = frames.pop() {
                let (decision, branch) = (frame.decision, frame.branch);
                self.leave(frame);
                if branch == Branch::True {
                    let frame = self.enter(decision, Branch::False);
                    frames.push(frame);
                    continue 'descend;
                }
            }
            return Ok(());
        }
    }

    fn enter(&mut self, decision: usize, branch: Branch) -> Frame {
        self.frontier.remove(&decision);
        let d = self.decisions[decision];
        self.assigned[d] = Some(branch);
        let previous_at = self.at;
        self.tree.push((self.at, (d, branch)));
        self.at = (self.tree.len() - 1) as u32;
        let holding_mark = self.holding.len();
        let (ends_mark, general_mark, watched_mark) = (
            self.known_ends.len(),
            self.general.len(),
            self.watched.len(),
        );
        let mut unlocked = Vec::new();
        let newly: Vec<CondId> = self
            .by_literal
            .get(&(d, branch))
            .map(|ids| {
                ids.iter()
                    .copied()
                    .filter(|&t| self.holds[self.conditions.table.parent(t) as usize])
                    .collect()
            })
            .unwrap_or_default();
        for t in newly {
            self.holds[t as usize] = true;
            self.holding.push(t);
            for &u in &self.decisions_by_cond[t as usize] {
                self.frontier.insert(u);
                unlocked.push(u);
            }
            self.now_holds(t);
        }
        if self.kind[d] == Some(EndKind::Decision) {
            let edges = self.graph.out_edges(d);
            let can_run = |b: Branch| {
                edges
                    .iter()
                    .any(|e| e.branch == Some(b) && self.conditions.of[e.to].is_some())
            };
            if !can_run(branch) {
                let on = can_run(branch.other()).then_some(branch);
                self.known_ends.push(End { action: d, on });
            }
        }
        Frame {
            decision,
            branch,
            holding_mark,
            ends_mark,
            general_mark,
            watched_mark,
            unlocked,
            previous_at,
        }
    }

    fn leave(&mut self, frame: Frame) {
        for t in self.holding.drain(frame.holding_mark..) {
            self.holds[t as usize] = false;
        }
        self.known_ends.truncate(frame.ends_mark);
        self.general.truncate(frame.general_mark);
        self.watched.truncate(frame.watched_mark);
        for u in frame.unlocked {
            self.frontier.remove(&u);
        }
        self.assigned[self.decisions[frame.decision]] = None;
        self.frontier.insert(frame.decision);
        self.at = frame.previous_at;
    }

    fn leaf(&mut self, collect: bool) {
        let index = self.leaves;
        self.leaves += 1;
        if !collect {
            for &g in &self.watched {
                self.hits[g].push(index);
            }
            return;
        }
        let mut ends = self.known_ends.clone();
        ends.extend(self.general.iter().filter_map(|&n| self.end(n)));
        ends.sort();
        self.out.push(Scenario {
            path: self.at,
            ends,
        });
    }

    /// Whether `n` (which runs) ends the current scenario, and how.
    fn end(&self, n: NodeId) -> Option<End> {
        let outcome = self.assigned[n];
        let edges = self.graph.out_edges(n);
        let active_runs = edges
            .iter()
            .filter(|e| e.branch.is_none() || e.branch == outcome)
            .any(|e| self.runs(e.to));
        if active_runs {
            return None;
        }
        // Would the other outcome have triggered something? Then this end depends on the
        // outcome, and what follows it must hang off the branch taken.
        let on = outcome.filter(|b| {
            edges
                .iter()
                .any(|e| e.branch == Some(b.other()) && self.conditions.of[e.to].is_some())
        });
        Some(End { action: n, on })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::workflow;
    use ephflow_schema::model::Workflow;
    use serde_json::json;

    fn scenarios(w: &Workflow) -> (Graph<'_>, Vec<Scenario>, Scenarios) {
        let g = Graph::build(w);
        let order = g.topological_order().unwrap();
        let rc = g.run_conditions(&order);
        let s = enumerate(&g, &order, &rc, 100).unwrap();
        (g, s.list.clone(), s)
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
        let (g, s, _) = scenarios(&w);
        assert_eq!(s.len(), 1);
        assert_eq!(named(&g, &s[0]), ["c", "d"]);
    }

    #[test]
    fn exclusive_branches_end_separately() {
        let w = workflow(json!({
            "a": [{"True": ["t"], "False": ["f"]}],
            "t": ["t2"], "t2": [], "f": []
        }));
        let (g, s, all) = scenarios(&w);
        assert_eq!(s.len(), 2);
        assert_eq!(all.decisions(0), vec![(0, Branch::True)]);
        assert_eq!(all.decisions(1), vec![(0, Branch::False)]);
        assert_eq!(named(&g, &s[0]), ["t2"]);
        assert_eq!(named(&g, &s[1]), ["f"]);
    }

    #[test]
    fn empty_branch_ends_on_its_outcome() {
        let w = workflow(json!({"a": [{"True": [], "False": ["f"]}], "f": []}));
        let (g, s, _) = scenarios(&w);
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
        let (g, s, _) = scenarios(&w);
        let ends: Vec<_> = s.iter().map(|s| named(&g, s)).collect();
        assert_eq!(ends, [vec!["y"], vec!["z"], vec!["x"]]);
    }

    #[test]
    fn join_that_never_runs_leaves_its_feeders_as_ends() {
        let w = workflow(json!({
            "a": [{"True": ["t"], "False": ["f"]}],
            "t": ["j"], "f": ["j"], "j": []
        }));
        let (g, s, _) = scenarios(&w);
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
        let all = enumerate(&g, &order, &rc, 4).unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all.decisions(3),
            vec![(1, Branch::False), (4, Branch::False)]
        );
        let q1 = rc.of[g.id("q1").unwrap()].unwrap();
        let hits = where_holds(&g, &order, &rc, &[q1, ALWAYS], 4).unwrap();
        assert_eq!(hits, vec![vec![0, 2], vec![0, 1, 2, 3]]);
        assert_eq!(
            enumerate(&g, &order, &rc, 3).unwrap_err(),
            TooManyScenarios { limit: 3 }
        );
    }
}
