//! FaaSr's graph rules: one entry that reaches everything, no cycles, ranks only behind a single
//! unranked predecessor, no mixing of conditional and unconditional triggers; and the warning
//! for joins that FaaSr's all-predecessors fan-in can never fire.

use ephflow_schema::Diagnostic;
use ephflow_schema::model::Workflow;
use ephflow_schema::pointer::from_tokens;

use super::listing;
use crate::graph::{Graph, NodeId};

pub(super) fn check(w: &Workflow, g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let entry = g.id(&w.function_invoke);
    let order = match g.topological_order() {
        Ok(order) => Some(order),
        Err(cycles) => {
            for cycle in cycles {
                let names: Vec<&str> = cycle.iter().map(|&n| g.name(n)).collect();
                out.push(
                    Diagnostic::error(
                        "cycle",
                        from_tokens(["ActionList", names[0], "InvokeNext"]),
                        format!("the actions form a cycle: {}", names.join(" → ")),
                    )
                    .expected("a directed acyclic graph")
                    .hint("remove one of these InvokeNext entries"),
                );
            }
            None
        }
    };

    if let Some(entry) = entry {
        check_entry(w, g, entry, out);
    }
    check_ranks(g, out);
    check_trigger_kinds(g, out);

    if let (Some(order), Some(_)) = (order, entry) {
        let rc = g.run_conditions(&order);
        for c in rc.never {
            let join = g.name(c.action);
            out.push(
                Diagnostic::warning(
                    "join-never-runs",
                    from_tokens(["ActionList", join]),
                    format!(
                        "\"{join}\" waits for \"{}\" (runs only when \"{}\" returns {}) and for \"{}\" (runs only when it returns {}); FaaSr runs a join only after all its predecessors ran, so \"{join}\" never runs",
                        g.name(c.via),
                        g.name(c.conditional),
                        c.branch,
                        g.name(c.other_via),
                        c.other_side,
                    ),
                )
                .expected("predecessors that can all run in the same execution")
                .hint(format!(
                    "give each branch of \"{}\" its own successor instead of joining them",
                    g.name(c.conditional)
                )),
            );
        }
    }
}

fn check_entry(w: &Workflow, g: &Graph<'_>, entry: NodeId, out: &mut Vec<Diagnostic>) {
    if !g.in_edges(entry).is_empty() {
        let preds: Vec<&str> = g.predecessors(entry).iter().map(|&p| g.name(p)).collect();
        out.push(
            Diagnostic::error(
                "entry-has-predecessor",
                "/FunctionInvoke",
                format!(
                    "the entry action \"{}\" is invoked by {}; the entry must have no predecessor",
                    w.function_invoke,
                    listing(&preds)
                ),
            )
            .hint("point FunctionInvoke at the first action, or remove those InvokeNext entries"),
        );
    }
    let reached = g.reachable_from(entry);
    for n in (0..g.len()).filter(|&n| !reached[n]) {
        let name = g.name(n);
        let d = if g.in_edges(n).is_empty() {
            Diagnostic::error(
                "unreachable",
                from_tokens(["ActionList", name]),
                format!(
                    "\"{name}\" has no predecessor and is not the entry (\"{}\"), so it never runs; a FaaSr workflow has exactly one entry",
                    w.function_invoke
                ),
            )
            .hint(format!(
                "invoke \"{name}\" from another action's InvokeNext, or remove it"
            ))
        } else {
            let preds: Vec<&str> = g.predecessors(n).iter().map(|&p| g.name(p)).collect();
            Diagnostic::error(
                "unreachable",
                from_tokens(["ActionList", name]),
                format!(
                    "\"{name}\" is not reachable from the entry \"{}\": it is invoked only by {}, which never run{}",
                    w.function_invoke,
                    listing(&preds),
                    if preds.len() == 1 { "s" } else { "" }
                ),
            )
            .hint("connect it to the part of the workflow that starts at FunctionInvoke")
        };
        out.push(d);
    }
}

/// The largest rank accepted. Ranks expand to one dispatch, one job and one marker each, and
/// the fan-in after a ranked action lists every rank: a rank of four billion (which the
/// format allows) exhausted memory (found by audit). GitHub allows 5,000 API calls an hour
/// per token, so ten thousand copies already take two hours to dispatch.
pub(crate) const MAX_RANK: u32 = 10_000;

fn check_ranks(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    let ranked: Vec<bool> = (0..g.len())
        .map(|n| g.in_edges(n).iter().any(|e| e.is_ranked()))
        .collect();
    for n in 0..g.len() {
        for e in g.in_edges(n).iter().filter(|e| e.rank == Some(0)) {
            out.push(
                Diagnostic::error(
                    "bad-rank",
                    g.pointer(e.from, e.slot),
                    format!(
                        "\"{}(0)\" asks for zero copies of \"{}\", so it never runs",
                        g.name(n),
                        g.name(n)
                    ),
                )
                .expected("a rank of at least 1")
                .hint(format!(
                    "write \"{}\" or \"{}(N)\" with N ≥ 1",
                    g.name(n),
                    g.name(n)
                )),
            );
        }
        for e in g
            .in_edges(n)
            .iter()
            .filter(|e| e.rank.is_some_and(|r| r > MAX_RANK))
        {
            let rank = e.rank.unwrap_or_default();
            out.push(
                Diagnostic::error(
                    "bad-rank",
                    g.pointer(e.from, e.slot),
                    format!(
                        "\"{}({rank})\" asks for {rank} copies of \"{}\": each is one GitHub dispatch and one completion marker, far past what a run can make",
                        g.name(n),
                        g.name(n)
                    ),
                )
                .expected(format!("a rank from 1 to {MAX_RANK}"))
                .hint("split the work into fewer, larger ranks"),
            );
        }
        if !ranked[n] {
            continue;
        }
        let name = g.name(n);
        let preds = g.predecessors(n);
        let at = g
            .in_edges(n)
            .iter()
            .find(|e| e.is_ranked())
            .map(|e| g.pointer(e.from, e.slot))
            .unwrap_or_default();
        if preds.len() != 1 {
            let names: Vec<&str> = preds.iter().map(|&p| g.name(p)).collect();
            out.push(
                Diagnostic::error(
                    "ranked-fan-in",
                    at.clone(),
                    format!(
                        "\"{name}\" is ranked but invoked by {} actions ({}); FaaSr requires a ranked action to have exactly one predecessor",
                        preds.len(),
                        listing(&names)
                    ),
                )
                .hint(format!(
                    "invoke \"{name}\" from one action only, or add a join action before it"
                )),
            );
        }
        for &p in preds.iter().filter(|&&p| ranked[p]) {
            out.push(
                Diagnostic::error(
                    "ranked-after-ranked",
                    at.clone(),
                    format!(
                        "\"{name}\" is ranked and so is its predecessor \"{}\"; FaaSr does not allow a ranked action directly after another",
                        g.name(p)
                    ),
                )
                .hint(format!(
                    "add an unranked action between \"{}\" and \"{name}\"",
                    g.name(p)
                )),
            );
        }
    }
}

fn check_trigger_kinds(g: &Graph<'_>, out: &mut Vec<Diagnostic>) {
    for n in 0..g.len() {
        let name = g.name(n);
        let edges = g.in_edges(n);
        let mut conditional_sources: Vec<NodeId> = edges
            .iter()
            .filter(|e| e.branch.is_some())
            .map(|e| e.from)
            .collect();
        conditional_sources.dedup();
        let unconditional = edges.iter().find(|e| e.branch.is_none());
        if let (Some(c), Some(u)) = (edges.iter().find(|e| e.branch.is_some()), unconditional) {
            out.push(
                Diagnostic::error(
                    "mixed-triggers",
                    from_tokens(["ActionList", name]),
                    format!(
                        "\"{name}\" is invoked conditionally by \"{}\" and unconditionally by \"{}\"; FaaSr does not allow both kinds of trigger on one action",
                        g.name(c.from),
                        g.name(u.from)
                    ),
                )
                .hint("make all the triggers of this action conditional, or all unconditional"),
            );
        }
        if conditional_sources.len() > 1 {
            let names: Vec<&str> = conditional_sources.iter().map(|&s| g.name(s)).collect();
            out.push(
                Diagnostic::error(
                    "conditional-from-several",
                    from_tokens(["ActionList", name]),
                    format!(
                        "\"{name}\" is invoked conditionally by several actions ({}); FaaSr allows conditional triggers from one action only",
                        listing(&names)
                    ),
                )
                .hint("add an action after the conditionals that invokes it unconditionally"),
            );
        }
    }
}
