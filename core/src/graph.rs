//! The workflow as a graph: actions are nodes, `InvokeNext` entries are edges.
//!
//! Node ids are indexes into `ActionList` (file order), so every traversal here is
//! deterministic. Edges to unknown actions are kept apart as [`DanglingRef`]s so the graph
//! stays well-formed while validation reports them.

use std::collections::HashMap;

use ephflow_schema::model::{Branch, EdgeSlot, Workflow};
use ephflow_schema::pointer;

pub use crate::conditions::{Contradiction, RunConditions};

/// Index of an action in `ActionList` order.
pub type NodeId = usize;

/// One `InvokeNext` edge between two known actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    /// The action whose `InvokeNext` holds the edge.
    pub from: NodeId,
    /// The invoked action.
    pub to: NodeId,
    /// `Some(N)` for `name(N)`.
    pub rank: Option<u32>,
    /// The conditional branch, `None` for an unconditional edge.
    pub branch: Option<Branch>,
    /// Where the edge is written in `from`'s InvokeNext (see [`Graph::pointer`]).
    pub slot: EdgeSlot,
}

impl Edge {
    /// Whether FaaSr starts several copies of the target through this edge.
    pub fn is_ranked(&self) -> bool {
        self.rank.is_some_and(|r| r > 1)
    }
}

/// An `InvokeNext` entry naming an action that does not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DanglingRef {
    /// The action whose `InvokeNext` holds it.
    pub from: NodeId,
    /// The unknown name (without rank).
    pub target: String,
    /// Where the entry is written in `from`'s InvokeNext (see [`Graph::pointer`]).
    pub slot: EdgeSlot,
}

/// The DAG of a workflow (possibly cyclic if the file is invalid).
#[derive(Debug, Clone)]
pub struct Graph<'w> {
    names: Vec<&'w str>,
    index: HashMap<&'w str, NodeId>,
    /// Edges grouped by source (compressed rows: `out_start[n]..out_start[n + 1]`).
    out: Vec<Edge>,
    out_start: Vec<usize>,
    /// Edges grouped by target, sources in file order.
    inc: Vec<Edge>,
    in_start: Vec<usize>,
    dangling: Vec<DanglingRef>,
}

impl<'w> Graph<'w> {
    /// Builds the graph of `workflow`.
    pub fn build(workflow: &'w Workflow) -> Self {
        let names: Vec<&str> = workflow.action_list.keys().map(String::as_str).collect();
        let index: HashMap<&str, NodeId> = names.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let mut out: Vec<Edge> = Vec::new();
        let mut out_start = Vec::with_capacity(names.len() + 1);
        let mut dangling = Vec::new();
        for (from, action) in workflow.action_list.values().enumerate() {
            out_start.push(out.len());
            let Some(next) = &action.invoke_next else {
                continue;
            };
            next.visit_edges(|target, slot| match index.get(target.name()) {
                Some(&to) => out.push(Edge {
                    from,
                    to,
                    rank: target.rank(),
                    branch: slot.branch,
                    slot,
                }),
                None => dangling.push(DanglingRef {
                    from,
                    target: target.name().to_owned(),
                    slot,
                }),
            });
        }
        out_start.push(out.len());
        // Counting sort by target; stable, so each target's sources stay in file order.
        let mut in_start = vec![0usize; names.len() + 1];
        for e in &out {
            in_start[e.to + 1] += 1;
        }
        for i in 0..names.len() {
            in_start[i + 1] += in_start[i];
        }
        let mut fill = in_start.clone();
        let mut inc = out.clone();
        for e in &out {
            inc[fill[e.to]] = *e;
            fill[e.to] += 1;
        }
        Graph {
            names,
            index,
            out,
            out_start,
            inc,
            in_start,
            dangling,
        }
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no actions.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The action's name.
    pub fn name(&self, id: NodeId) -> &'w str {
        self.names[id]
    }

    /// The id of the action called `name`.
    pub fn id(&self, name: &str) -> Option<NodeId> {
        self.index.get(name).copied()
    }

    /// Edges leaving `id`, in file order.
    pub fn out_edges(&self, id: NodeId) -> &[Edge] {
        &self.out[self.out_start[id]..self.out_start[id + 1]]
    }

    /// Edges entering `id`, in the file order of their sources.
    pub fn in_edges(&self, id: NodeId) -> &[Edge] {
        &self.inc[self.in_start[id]..self.in_start[id + 1]]
    }

    /// JSON pointer of an InvokeNext entry of action `from` (for messages).
    pub fn pointer(&self, from: NodeId, slot: EdgeSlot) -> String {
        let mut p = pointer::from_tokens(["ActionList", self.names[from], "InvokeNext"]);
        p.push_str(&slot.pointer_suffix());
        p
    }

    /// References to unknown actions.
    pub fn dangling(&self) -> &[DanglingRef] {
        &self.dangling
    }

    /// Distinct predecessors of `id`, in file order.
    pub fn predecessors(&self, id: NodeId) -> Vec<NodeId> {
        // Edges are added source by source, so one source's edges are contiguous.
        let mut preds: Vec<NodeId> = self.in_edges(id).iter().map(|e| e.from).collect();
        preds.dedup();
        preds
    }

    /// Which actions `entry` reaches (itself included).
    pub fn reachable_from(&self, entry: NodeId) -> Vec<bool> {
        let mut seen = vec![false; self.len()];
        let mut stack = vec![entry];
        seen[entry] = true;
        while let Some(n) = stack.pop() {
            for e in self.out_edges(n) {
                if !seen[e.to] {
                    seen[e.to] = true;
                    stack.push(e.to);
                }
            }
        }
        seen
    }

    /// A topological order, or the cycles that prevent one (each as a closed path of ids,
    /// first id repeated at the end; one per strongly connected component).
    pub fn topological_order(&self) -> Result<Vec<NodeId>, Vec<Vec<NodeId>>> {
        let mut indegree: Vec<usize> = (0..self.len()).map(|n| self.in_edges(n).len()).collect();
        let mut ready: Vec<NodeId> = (0..self.len())
            .rev()
            .filter(|&n| indegree[n] == 0)
            .collect();
        let mut order = Vec::with_capacity(self.len());
        while let Some(n) = ready.pop() {
            order.push(n);
            for e in self.out_edges(n).iter().rev() {
                indegree[e.to] -= 1;
                if indegree[e.to] == 0 {
                    ready.push(e.to);
                }
            }
        }
        if order.len() == self.len() {
            Ok(order)
        } else {
            Err(self.cycles())
        }
    }

    /// One closed path per cyclic strongly connected component (Tarjan, iterative).
    fn cycles(&self) -> Vec<Vec<NodeId>> {
        let n = self.len();
        let mut index = vec![usize::MAX; n];
        let mut low = vec![0; n];
        let mut on_stack = vec![false; n];
        let mut stack = Vec::new();
        let mut next_index = 0;
        let mut cycles = Vec::new();
        for root in 0..n {
            if index[root] != usize::MAX {
                continue;
            }
            // (node, next out-edge position)
            let mut work = vec![(root, 0usize)];
            index[root] = next_index;
            low[root] = next_index;
            next_index += 1;
            stack.push(root);
            on_stack[root] = true;
            while let Some(&mut (v, ref mut pos)) = work.last_mut() {
                if let Some(e) = self.out_edges(v).get(*pos) {
                    *pos += 1;
                    let w = e.to;
                    if index[w] == usize::MAX {
                        index[w] = next_index;
                        low[w] = next_index;
                        next_index += 1;
                        stack.push(w);
                        on_stack[w] = true;
                        work.push((w, 0));
                    } else if on_stack[w] {
                        low[v] = low[v].min(index[w]);
                    }
                    continue;
                }
                work.pop();
                if let Some(&(parent, _)) = work.last() {
                    low[parent] = low[parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    loop {
                        let w = stack.pop().expect("Tarjan stack holds the component");
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    let self_loop = self.out_edges(v).iter().any(|e| e.to == v);
                    if component.len() > 1 || self_loop {
                        cycles.push(self.cycle_within(&component));
                    }
                }
            }
        }
        cycles.sort();
        cycles
    }

    /// A closed path through the smallest id of a strongly connected component.
    fn cycle_within(&self, component: &[NodeId]) -> Vec<NodeId> {
        let start = *component.iter().min().expect("components are not empty");
        let inside = |n: NodeId| component.contains(&n);
        // Breadth-first from start's successors back to start, inside the component.
        let mut parent: HashMap<NodeId, NodeId> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for e in self.out_edges(v) {
                if e.to == start {
                    // Walk the parents back from v to start, then close the loop.
                    let mut path = vec![v];
                    while *path.last().expect("path starts non-empty") != start {
                        let cur = *path.last().expect("path starts non-empty");
                        path.push(parent[&cur]);
                    }
                    path.reverse();
                    path.push(start);
                    return normalise(path);
                }
                if inside(e.to) && !parent.contains_key(&e.to) && e.to != start {
                    parent.insert(e.to, v);
                    queue.push_back(e.to);
                }
            }
        }
        vec![start, start]
    }

    /// When each action runs (see [`crate::conditions`]); `order` is a topological order.
    pub fn run_conditions(&self, order: &[NodeId]) -> RunConditions {
        RunConditions::compute(self, order)
    }
}

/// Rotates a closed path so it starts at its smallest id (stable output).
fn normalise(mut path: Vec<NodeId>) -> Vec<NodeId> {
    path.pop();
    if let Some(pos) = path
        .iter()
        .enumerate()
        .min_by_key(|(_, n)| **n)
        .map(|(i, _)| i)
    {
        path.rotate_left(pos);
    }
    let first = path[0];
    path.push(first);
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::workflow;
    use serde_json::json;

    #[test]
    fn edges_ranks_branches_and_dangling() {
        let w = workflow(json!({
            "a": ["b(3)", {"True": ["c"], "False": ["ghost"]}],
            "b": [], "c": []
        }));
        let g = Graph::build(&w);
        let out: Vec<_> = g
            .out_edges(0)
            .iter()
            .map(|e| (g.name(e.to), e.rank, e.branch, g.pointer(e.from, e.slot)))
            .collect();
        let out: Vec<_> = out
            .iter()
            .map(|(n, r, b, p)| (*n, *r, *b, p.as_str()))
            .collect();
        assert_eq!(
            out,
            vec![
                ("b", Some(3), None, "/ActionList/a/InvokeNext/0"),
                (
                    "c",
                    None,
                    Some(Branch::True),
                    "/ActionList/a/InvokeNext/1/True/0"
                ),
            ]
        );
        assert_eq!(g.dangling()[0].target, "ghost");
        assert_eq!(
            g.pointer(g.dangling()[0].from, g.dangling()[0].slot),
            "/ActionList/a/InvokeNext/1/False/0"
        );
    }

    #[test]
    fn finds_each_cycle_once() {
        let w = workflow(json!({
            "a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["d"]
        }));
        let g = Graph::build(&w);
        let cycles = g.topological_order().unwrap_err();
        let named: Vec<Vec<&str>> = cycles
            .iter()
            .map(|c| c.iter().map(|&n| g.name(n)).collect())
            .collect();
        assert_eq!(named, vec![vec!["a", "b", "c", "a"], vec!["d", "d"]]);
    }

    #[test]
    fn topological_order_respects_edges() {
        let w = workflow(json!({"a": ["c", "b"], "b": ["d"], "c": ["d"], "d": []}));
        let g = Graph::build(&w);
        let order = g.topological_order().unwrap();
        let pos = |n: &str| order.iter().position(|&x| g.name(x) == n).unwrap();
        assert!(pos("a") < pos("b") && pos("a") < pos("c"));
        assert!(pos("b") < pos("d") && pos("c") < pos("d"));
    }

    #[test]
    fn join_after_exclusive_branches_never_runs() {
        let w = workflow(json!({
            "a": [{"True": ["t"], "False": ["f"]}],
            "t": ["j"], "f": ["j"], "j": ["k"], "k": []
        }));
        let g = Graph::build(&w);
        let order = g.topological_order().unwrap();
        let rc = g.run_conditions(&order);
        assert_eq!(rc.never.len(), 1, "only the join itself is reported");
        let c = &rc.never[0];
        assert_eq!(g.name(c.action), "j");
        assert_eq!(g.name(c.conditional), "a");
        assert_eq!((g.name(c.via), c.branch), ("f", Branch::False));
        assert_eq!((g.name(c.other_via), c.other_side), ("t", Branch::True));
        assert!(rc.of[g.id("k").unwrap()].is_none());
        assert_eq!(
            rc.literals(g.id("t").unwrap()).unwrap(),
            vec![(0, Branch::True)]
        );
    }

    #[test]
    fn same_target_on_both_branches_always_runs() {
        let w = workflow(json!({"a": [{"True": ["b"], "False": ["b"]}], "b": []}));
        let g = Graph::build(&w);
        let rc = g.run_conditions(&g.topological_order().unwrap());
        assert!(rc.never.is_empty());
        assert!(rc.literals(1).unwrap().is_empty());
    }
}
