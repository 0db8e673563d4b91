//! Run conditions: under which conditional outcomes each action runs.
//!
//! FaaSr runs an action once all its predecessors have completed, and a conditional edge only
//! fires on its branch, so an action runs exactly when a conjunction of outcomes
//! `(conditional action, branch)` holds: the union of its predecessors' conjunctions plus the
//! branch of each conditional edge into it. A contradictory union is an action that never runs.
//!
//! Conjunctions are stored as paths in a trie whose literals are in topological order, so a
//! chain of a thousand conditionals costs a thousand trie nodes, not a million literals, and
//! every action only holds an id.

use std::collections::HashMap;

use ephflow_schema::model::Branch;

use crate::graph::{Graph, NodeId};

/// An interned conjunction of outcomes.
pub type CondId = u32;

/// The empty conjunction: always true.
pub const ALWAYS: CondId = 0;

/// One outcome: the conditional action and the branch it takes.
pub type Literal = (NodeId, Branch);

/// The interned conjunctions, as a trie: each id is its parent's conjunction plus one literal,
/// later in topological order than every literal above it.
#[derive(Debug, Clone)]
pub struct ConditionTable {
    parent: Vec<CondId>,
    literal: Vec<Option<Literal>>,
    depth: Vec<u32>,
    /// Topological position of each action (orders literals).
    position: Vec<usize>,
    extend_memo: HashMap<(CondId, Literal), CondId>,
    union_memo: HashMap<(CondId, CondId), Result<CondId, Clash>>,
}

/// Two conjunctions that need opposite outcomes of one conditional action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clash {
    /// The conditional action.
    pub conditional: NodeId,
    /// The outcome the first conjunction needs.
    pub first: Branch,
}

impl ConditionTable {
    /// An empty table for a graph whose topological order is `order`.
    pub fn new(node_count: usize, order: &[NodeId]) -> Self {
        let mut position = vec![0; node_count];
        for (i, &n) in order.iter().enumerate() {
            position[n] = i;
        }
        ConditionTable {
            parent: vec![ALWAYS],
            literal: vec![None],
            depth: vec![0],
            position,
            extend_memo: HashMap::new(),
            union_memo: HashMap::new(),
        }
    }

    /// Number of interned conjunctions.
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether only [`ALWAYS`] is interned.
    pub fn is_empty(&self) -> bool {
        self.parent.len() == 1
    }

    /// The conjunction one literal shorter (`ALWAYS` for `ALWAYS`).
    pub fn parent(&self, id: CondId) -> CondId {
        self.parent[id as usize]
    }

    /// The last literal of the conjunction (`None` for `ALWAYS`).
    pub fn last(&self, id: CondId) -> Option<Literal> {
        self.literal[id as usize]
    }

    /// The literals, in topological order of their conditional actions.
    pub fn literals(&self, mut id: CondId) -> Vec<Literal> {
        let mut out = Vec::with_capacity(self.depth[id as usize] as usize);
        while let Some(l) = self.literal[id as usize] {
            out.push(l);
            id = self.parent[id as usize];
        }
        out.reverse();
        out
    }

    /// The already interned `id ∧ lit`, if any (no interning).
    pub fn child(&self, id: CondId, lit: Literal) -> Option<CondId> {
        self.extend_memo.get(&(id, lit)).copied()
    }

    /// `id` and one more literal, which must come after every literal of `id`.
    fn push(&mut self, id: CondId, lit: Literal) -> CondId {
        if let Some(&c) = self.extend_memo.get(&(id, lit)) {
            return c;
        }
        let c = self.parent.len() as CondId;
        self.parent.push(id);
        self.literal.push(Some(lit));
        self.depth.push(self.depth[id as usize] + 1);
        self.extend_memo.insert((id, lit), c);
        c
    }

    /// The conjunction `id ∧ lit`, where `lit` is on a descendant of every action in `id`
    /// (true of the branch of a conditional edge leaving an action that runs under `id`).
    pub fn extend(&mut self, id: CondId, lit: Literal) -> Result<CondId, Clash> {
        match self.last(id) {
            Some(last) if self.position[last.0] >= self.position[lit.0] => {
                let single = self.push(ALWAYS, lit);
                self.union(id, single)
            }
            _ => Ok(self.push(id, lit)),
        }
    }

    /// Whether `a` is a prefix of `b` (so `b` implies `a`).
    fn is_prefix(&self, a: CondId, mut b: CondId) -> bool {
        let da = self.depth[a as usize];
        while self.depth[b as usize] > da {
            b = self.parent[b as usize];
        }
        a == b
    }

    /// The conjunction `a ∧ b`, or the outcome they disagree on.
    pub fn union(&mut self, a: CondId, b: CondId) -> Result<CondId, Clash> {
        // Cheap cases first: every action folds its predecessors starting from ALWAYS.
        if b == ALWAYS {
            return Ok(a);
        }
        if a == ALWAYS {
            return Ok(b);
        }
        if a == b || self.is_prefix(b, a) {
            return Ok(a);
        }
        if self.is_prefix(a, b) {
            return Ok(b);
        }
        // Memoized under the ordered pair; a clash is reported from `a`'s side.
        let key = (a.min(b), a.max(b));
        let r = match self.union_memo.get(&key) {
            Some(&r) => r,
            None => {
                let r = self.merge(key.0, key.1);
                self.union_memo.insert(key, r);
                r
            }
        };
        r.map_err(|c| {
            if a == key.0 {
                c
            } else {
                Clash {
                    first: c.first.other(),
                    ..c
                }
            }
        })
    }

    /// Merges two conjunctions in topological order of their literals (no memo).
    fn merge(&mut self, lo: CondId, hi: CondId) -> Result<CondId, Clash> {
        let (la, lb) = (self.literals(lo), self.literals(hi));
        let (mut i, mut j) = (0, 0);
        let mut merged = Vec::with_capacity(la.len() + lb.len());
        let result = loop {
            let next = match (la.get(i), lb.get(j)) {
                (None, None) => break Ok(()),
                (Some(&x), None) => {
                    i += 1;
                    x
                }
                (None, Some(&y)) => {
                    j += 1;
                    y
                }
                (Some(&x), Some(&y)) if x.0 == y.0 => {
                    if x.1 != y.1 {
                        break Err(Clash {
                            conditional: x.0,
                            first: x.1,
                        });
                    }
                    i += 1;
                    j += 1;
                    x
                }
                (Some(&x), Some(&y)) => {
                    if self.position[x.0] < self.position[y.0] {
                        i += 1;
                        x
                    } else {
                        j += 1;
                        y
                    }
                }
            };
            merged.push(next);
        };
        result.map(|()| merged.into_iter().fold(ALWAYS, |c, l| self.push(c, l)))
    }
}

/// When each action runs.
#[derive(Debug, Clone)]
pub struct RunConditions {
    /// The interned conjunctions.
    pub table: ConditionTable,
    /// Per action: its conjunction, `None` if it can never run.
    pub of: Vec<Option<CondId>>,
    /// The actions that never run because two of their predecessors need opposite outcomes of
    /// one conditional (the first such action on each path).
    pub never: Vec<Contradiction>,
}

impl RunConditions {
    /// Computes the run condition of every action, visiting them in topological `order`.
    pub fn compute(graph: &Graph<'_>, order: &[NodeId]) -> Self {
        let mut table = ConditionTable::new(graph.len(), order);
        let mut of: Vec<Option<CondId>> = vec![Some(ALWAYS); graph.len()];
        let mut never = Vec::new();
        for &x in order {
            let mut cond = Some(ALWAYS);
            // Each predecessor's contribution: its condition, plus its branch when all its
            // edges into x sit on one branch.
            let mut parts: Vec<(NodeId, CondId)> = Vec::new();
            // One source's edges are contiguous (see Graph::predecessors).
            for edges in graph.in_edges(x).chunk_by(|a, b| a.from == b.from) {
                let p = edges[0].from;
                let Some(pc) = of[p] else {
                    cond = None;
                    break;
                };
                let (mut t, mut f, mut plain) = (false, false, false);
                for b in edges.iter().map(|e| e.branch) {
                    match b {
                        Some(Branch::True) => t = true,
                        Some(Branch::False) => f = true,
                        None => plain = true,
                    }
                }
                let part = match (t, f, plain) {
                    (true, false, false) => table.extend(pc, (p, Branch::True)),
                    (false, true, false) => table.extend(pc, (p, Branch::False)),
                    _ => Ok(pc),
                };
                let part =
                    part.expect("a predecessor's own branch never clashes with its condition");
                let merged = table.union(cond.expect("cond is Some until a break"), part);
                match merged {
                    Ok(c) => {
                        parts.push((p, part));
                        cond = Some(c);
                    }
                    Err(clash) => {
                        let other_via = parts
                            .iter()
                            .find(|&&(_, c)| {
                                table
                                    .literals(c)
                                    .contains(&(clash.conditional, clash.first))
                            })
                            .map_or(p, |&(q, _)| q);
                        never.push(Contradiction {
                            action: x,
                            conditional: clash.conditional,
                            branch: clash.first.other(),
                            via: p,
                            other_side: clash.first,
                            other_via,
                        });
                        cond = None;
                        break;
                    }
                }
            }
            of[x] = cond;
        }
        RunConditions { table, of, never }
    }

    /// The literals under which `action` runs (`None`: never).
    pub fn literals(&self, action: NodeId) -> Option<Vec<Literal>> {
        self.of[action].map(|c| self.table.literals(c))
    }
}

/// An action whose predecessors need both outcomes of one conditional action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contradiction {
    /// The action that never runs.
    pub action: NodeId,
    /// The conditional action whose two outcomes are both required.
    pub conditional: NodeId,
    /// The branch required through `via`.
    pub branch: Branch,
    /// The predecessor through which `branch` is required.
    pub via: NodeId,
    /// The branch required through `other_via`.
    pub other_side: Branch,
    /// The predecessor through which `other_side` is required.
    pub other_via: NodeId,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_share_prefixes_and_unions_merge_in_order() {
        // Actions 0..4 in topological order 0,1,2,3.
        let mut t = ConditionTable::new(4, &[0, 1, 2, 3]);
        let a = t.extend(ALWAYS, (0, Branch::True)).unwrap();
        let b = t.extend(a, (1, Branch::False)).unwrap();
        assert_eq!(t.extend(ALWAYS, (0, Branch::True)).unwrap(), a, "memoized");
        let c = t.extend(ALWAYS, (2, Branch::True)).unwrap();
        let u = t.union(b, c).unwrap();
        assert_eq!(
            t.literals(u),
            vec![(0, Branch::True), (1, Branch::False), (2, Branch::True)]
        );
        assert_eq!(t.union(u, a).unwrap(), u, "a is implied by u");
        let clash = t.extend(ALWAYS, (0, Branch::False)).unwrap();
        assert_eq!(
            t.union(b, clash).unwrap_err(),
            Clash {
                conditional: 0,
                first: Branch::True
            }
        );
        assert_eq!(
            t.union(clash, b).unwrap_err(),
            Clash {
                conditional: 0,
                first: Branch::False
            }
        );
    }
}
