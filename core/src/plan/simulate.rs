//! The schedule of one execution: a discrete-event simulation in which jobs run as soon as
//! FaaSr would dispatch them, the VM's single runner takes VM jobs one at a time, and polls end
//! when the VM is ready.

use std::collections::HashSet;

use ephflow_schema::model::Workflow;
use ephflow_schema::names::{POLL_FUNCTION, START_FUNCTION, STOP_FUNCTION};

use super::{Scenario, Timing};
use crate::graph::{Edge, Graph, NodeId};

/// What a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobKind {
    /// A user action on a hosted platform.
    Action,
    /// A `RequiresVM` action, on the VM's runner.
    VmAction,
    /// vm_start.
    Start,
    /// vm_poll.
    Poll,
    /// vm_stop.
    Stop,
}

/// Why a job started when it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// The entry: at 0.
    Entry,
    /// The last predecessor to finish (job index).
    After(usize),
    /// The runner was busy with this job.
    Runner(usize),
    /// The VM became ready after this start job.
    VmReady(usize),
}

/// One action's run (all its ranked copies).
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The action.
    pub action: String,
    /// What it is.
    pub kind: JobKind,
    /// Ranked copies.
    pub copies: u32,
    /// When it was dispatched and could start.
    pub ready: f64,
    /// When it started.
    pub start: f64,
    /// When its last copy finished.
    pub finish: f64,
    cause: Cause,
}

/// The VM's lifetime.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VmWindow {
    /// The start request.
    pub requested: f64,
    /// Running with its runner online.
    pub ready: f64,
    /// The stop request.
    pub stopped: f64,
}

/// A simulated execution.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// Every job that ran, in start order.
    pub jobs: Vec<Job>,
    /// The VM, when it was started.
    pub vm: Option<VmWindow>,
    /// From the invocation to the end of the last job.
    pub makespan: f64,
}

impl Schedule {
    /// The chain of jobs that ends last, first to last.
    pub fn critical_path(&self) -> Vec<String> {
        let Some(mut at) = (0..self.jobs.len())
            .max_by(|&a, &b| self.jobs[a].finish.total_cmp(&self.jobs[b].finish))
        else {
            return Vec::new();
        };
        let mut path = vec![self.jobs[at].action.clone()];
        while let Cause::After(j) | Cause::Runner(j) | Cause::VmReady(j) = self.jobs[at].cause {
            at = j;
            path.push(self.jobs[at].action.clone());
        }
        path.reverse();
        path
    }
}

fn kind_of(workflow: &Workflow, name: &str) -> JobKind {
    let action = &workflow.action_list[name];
    if action.is_builtin() {
        match action.function_name.as_str() {
            START_FUNCTION => return JobKind::Start,
            POLL_FUNCTION => return JobKind::Poll,
            STOP_FUNCTION => return JobKind::Stop,
            _ => {}
        }
    }
    if action.requires_vm() {
        JobKind::VmAction
    } else {
        JobKind::Action
    }
}

/// Which actions run in `scenario`, and through which edges: FaaSr runs an action once every
/// one of its predecessors ran and invoked it (a conditional edge only on its branch).
fn running(graph: &Graph, order: &[NodeId], entry: NodeId, scenario: &Scenario) -> Vec<bool> {
    let mut runs = vec![false; graph.len()];
    let fires = |e: &Edge, runs: &[bool]| {
        runs[e.from]
            && e.branch.is_none_or(|b| {
                let choice = scenario
                    .choices
                    .get(graph.name(e.from))
                    .copied()
                    .unwrap_or(true);
                b.key() == if choice { "True" } else { "False" }
            })
    };
    for &n in order {
        if n == entry {
            runs[n] = true;
            continue;
        }
        let preds = graph.predecessors(n);
        runs[n] = !preds.is_empty()
            && preds.iter().all(|&p| {
                graph
                    .in_edges(n)
                    .iter()
                    .any(|e| e.from == p && fires(e, &runs))
            });
    }
    runs
}

/// Simulates `workflow` (augmented, or original with `lazy_vm`: the VM is started when the
/// first VM action is ready and stopped after the last one) in `scenario`.
pub fn simulate(
    workflow: &Workflow,
    scenario: &Scenario,
    timing: &Timing,
    lazy_vm: bool,
) -> Schedule {
    let graph = Graph::build(workflow);
    let order = graph
        .topological_order()
        .expect("plan runs on validated (acyclic) workflows");
    let Some(entry) = graph.id(&workflow.function_invoke) else {
        return Schedule {
            jobs: Vec::new(),
            vm: None,
            makespan: 0.0,
        };
    };
    let runs = running(&graph, &order, entry, scenario);
    let wait_checks = workflow
        .vm_config
        .as_ref()
        .and_then(|v| v.wait_for_status_checks)
        .unwrap_or(false);
    let boot = timing.boot + if wait_checks { timing.status_lag } else { 0.0 };

    let mut pending: Vec<usize> = (0..graph.len())
        .map(|n| graph.predecessors(n).len())
        .collect();
    let mut ready = vec![0.0f64; graph.len()];
    let mut cause = vec![Cause::Entry; graph.len()];
    let mut copies = vec![1u32; graph.len()];
    let mut arrived: HashSet<(NodeId, NodeId)> = HashSet::new();
    let mut queue: Vec<NodeId> = vec![entry];
    let mut jobs: Vec<Job> = Vec::new();
    let mut vm: Option<VmWindow> = None;
    let mut start_job: Option<usize> = None;
    let mut runner_free = (0.0f64, None::<usize>);

    while !queue.is_empty() {
        // The earliest dispatched job runs next (ties: file order), so the runner serves VM
        // jobs first come, first served.
        let i = (0..queue.len())
            .min_by(|&a, &b| {
                ready[queue[a]]
                    .total_cmp(&ready[queue[b]])
                    .then(queue[a].cmp(&queue[b]))
            })
            .expect("not empty");
        let n = queue.swap_remove(i);
        let name = graph.name(n);
        let kind = kind_of(workflow, name);
        let (r, mut why) = (ready[n], cause[n]);
        let index = jobs.len();
        let (start, finish) = match kind {
            JobKind::Action => (r, r + timing.durations.of(name)),
            JobKind::Start => {
                let done = r + timing.lifecycle_call;
                if vm.is_none() {
                    vm = Some(VmWindow {
                        requested: done,
                        ready: done + boot,
                        stopped: f64::INFINITY,
                    });
                    start_job = Some(index);
                }
                (r, done)
            }
            JobKind::Poll => {
                let vm_ready = vm.map_or(r, |w| w.ready + timing.detection_lag);
                let done = r + timing.lifecycle_call;
                if vm_ready > done {
                    why = start_job.map_or(why, Cause::VmReady);
                }
                (r, done.max(vm_ready))
            }
            JobKind::Stop => {
                let done = r + timing.lifecycle_call;
                if let Some(w) = vm.as_mut() {
                    w.stopped = w.stopped.min(done);
                }
                (r, done)
            }
            JobKind::VmAction => {
                let mut start = r;
                if lazy_vm {
                    if vm.is_none() {
                        // The reference point: the VM is only asked for now.
                        let requested = r + timing.lifecycle_call;
                        jobs.push(Job {
                            action: "vm start (on demand)".into(),
                            kind: JobKind::Start,
                            copies: 1,
                            ready: r,
                            start: r,
                            finish: requested,
                            cause: why,
                        });
                        start_job = Some(jobs.len() - 1);
                        vm = Some(VmWindow {
                            requested,
                            ready: requested + boot,
                            stopped: f64::INFINITY,
                        });
                    }
                    let w = vm.expect("requested above");
                    if w.ready + timing.detection_lag > start {
                        start = w.ready + timing.detection_lag;
                        why = start_job.map_or(why, Cause::VmReady);
                    }
                }
                if runner_free.0 > start {
                    start = runner_free.0;
                    why = runner_free.1.map_or(why, Cause::Runner);
                }
                let finish = start + f64::from(copies[n]) * timing.durations.of(name);
                (start, finish)
            }
        };
        let index = jobs.len();
        if kind == JobKind::VmAction {
            runner_free = (finish, Some(index));
        }
        jobs.push(Job {
            action: name.to_owned(),
            kind,
            copies: copies[n],
            ready: r,
            start,
            finish,
            cause: why,
        });
        for e in graph.out_edges(n) {
            let to = e.to;
            let fires = e.branch.is_none_or(|b| {
                let choice = scenario.choices.get(name).copied().unwrap_or(true);
                b.key() == if choice { "True" } else { "False" }
            });
            if !fires || !runs[to] || !arrived.insert((n, to)) {
                continue;
            }
            let at = finish + timing.dispatch_latency;
            if at >= ready[to] {
                ready[to] = at;
                cause[to] = Cause::After(index);
            }
            if e.is_ranked() {
                copies[to] = e.rank.unwrap_or(1);
            }
            pending[to] -= 1;
            if pending[to] == 0 {
                queue.push(to);
            }
        }
    }
    if lazy_vm && let Some(w) = vm.as_mut() {
        let (last, last_index) = jobs
            .iter()
            .enumerate()
            .filter(|(_, j)| j.kind == JobKind::VmAction)
            .map(|(i, j)| (j.finish, i))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .expect("a VM was asked for by a VM action");
        w.stopped = last + timing.lifecycle_call;
        jobs.push(Job {
            action: "vm stop (after the last VM action)".into(),
            kind: JobKind::Stop,
            copies: 1,
            ready: last,
            start: last,
            finish: w.stopped,
            cause: Cause::After(last_index),
        });
    }
    if let Some(w) = vm.as_mut()
        && !w.stopped.is_finite()
    {
        // No stop ran in this execution (a path FaaSr cannot stop cleanly): the VM runs to
        // the end of the schedule as far as this plan can tell.
        w.stopped = jobs.iter().map(|j| j.finish).fold(0.0, f64::max);
    }
    let makespan = jobs.iter().map(|j| j.finish).fold(0.0, f64::max);
    let mut schedule = Schedule { jobs, vm, makespan };
    // Keep causes valid while sorting by start: remap indexes.
    let mut order: Vec<usize> = (0..schedule.jobs.len()).collect();
    order.sort_by(|&a, &b| {
        schedule.jobs[a]
            .start
            .total_cmp(&schedule.jobs[b].start)
            .then(a.cmp(&b))
    });
    let mut new_index = vec![0; order.len()];
    for (new, &old) in order.iter().enumerate() {
        new_index[old] = new;
    }
    let remap = |c: Cause| match c {
        Cause::After(j) => Cause::After(new_index[j]),
        Cause::Runner(j) => Cause::Runner(new_index[j]),
        Cause::VmReady(j) => Cause::VmReady(new_index[j]),
        Cause::Entry => Cause::Entry,
    };
    let old = std::mem::take(&mut schedule.jobs);
    let mut slots: Vec<Option<Job>> = old.into_iter().map(Some).collect();
    schedule.jobs = order
        .iter()
        .map(|&i| {
            let mut j = slots[i].take().expect("each once");
            j.cause = remap(j.cause);
            j
        })
        .collect();
    schedule
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::workflow;
    use serde_json::json;

    fn run(actions: serde_json::Value, choices: &[(&str, bool)]) -> Schedule {
        let w = workflow(actions);
        let scenario = Scenario {
            choices: choices.iter().map(|(a, c)| ((*a).to_owned(), *c)).collect(),
        };
        simulate(&w, &scenario, &Timing::default(), false)
    }

    #[test]
    fn a_join_after_exclusive_branches_never_runs() {
        let s = run(
            json!({"a": [{"True": ["b"], "False": ["c"]}], "b": ["d"], "c": ["d"], "d": []}),
            &[("a", false)],
        );
        let names: Vec<&str> = s.jobs.iter().map(|j| j.action.as_str()).collect();
        assert_eq!(names, ["a", "c"]);
    }

    #[test]
    fn ranks_run_side_by_side_and_joins_wait_for_the_slowest() {
        // a (60) → b(3) (60 each, in parallel) and c (60); d joins b and c.
        let s = run(
            json!({"a": ["b(3)", "c"], "b": ["d"], "c": ["d"], "d": []}),
            &[],
        );
        let d = s.jobs.iter().find(|j| j.action == "d").unwrap();
        // a 0–60; b and c 70–130; d at 140.
        assert_eq!((d.ready, d.finish), (140.0, 200.0));
        assert_eq!(s.jobs.iter().find(|j| j.action == "b").unwrap().copies, 3);
        assert_eq!(s.makespan, 200.0);
    }
}
