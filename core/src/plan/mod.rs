//! Planning: what a workflow run costs under each injection strategy, before anything runs.
//!
//! The workflow is simulated ([`simulate`]) under the parallel and the sequential strategy
//! (augmented by [`crate::inject`], exactly as `ephflow augment` would) and, for reference,
//! with no VM overlap at all (the VM started only when the first VM action is ready, stopped
//! after the last one). The model: every action takes its duration (ranked copies run side by
//! side on hosted runners, but one at a time on the VM's single runner); every hop between
//! actions costs the dispatch latency; the VM is ready `boot` seconds (plus the status-check lag
//! when `WaitForStatusChecks`) after vm_start's request; a poll ends when the VM is ready plus
//! the runner-detection lag; FaaSr's fan-in runs a join once all its predecessors ran, and a
//! conditional follows the branch the scenario picks ([`Scenario`]).

/// Gantt charts of simulated schedules (SVG, HTML).
pub mod chart;
/// The simulation of one execution.
pub mod simulate;

use std::collections::BTreeMap;

use ephflow_schema::model::Workflow;
use serde_json::Value;

use crate::graph::Graph;

pub use simulate::{Job, JobKind, Schedule, VmWindow, simulate};

/// Seconds each action takes, with a default for the others.
#[derive(Debug, Clone, PartialEq)]
pub struct Durations {
    /// Per action.
    pub actions: BTreeMap<String, f64>,
    /// Every other user action.
    pub default: f64,
}

impl Default for Durations {
    fn default() -> Self {
        Durations {
            actions: BTreeMap::new(),
            default: 60.0,
        }
    }
}

impl Durations {
    /// Reads `{"default": 60, "actions": {"train": 3600}}` or the flat form
    /// `{"train": 3600, "default": 60}`; every value a number of seconds ≥ 0.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        let Some(top) = value.as_object() else {
            return Err("a durations file is an object of action names to seconds".into());
        };
        let mut out = Durations::default();
        let entries = match top.get("actions") {
            Some(Value::Object(actions)) => {
                if let Some(d) = top.get("default") {
                    out.default = seconds("default", d)?;
                }
                if let Some(k) = top.keys().find(|k| *k != "actions" && *k != "default") {
                    return Err(format!(
                        "unknown key \"{k}\" beside \"actions\" (only \"default\" may be there)"
                    ));
                }
                actions.clone()
            }
            Some(_) => {
                return Err("\"actions\" must be an object of action names to seconds".into());
            }
            None => top.clone(),
        };
        for (name, v) in &entries {
            let s = seconds(name, v)?;
            if name == "default" {
                out.default = s;
            } else {
                out.actions.insert(name.clone(), s);
            }
        }
        Ok(out)
    }

    /// The duration of `action`.
    pub fn of(&self, action: &str) -> f64 {
        self.actions.get(action).copied().unwrap_or(self.default)
    }

    /// Names that are not actions of `workflow` (probably misspelt).
    pub fn unknown(&self, workflow: &Workflow) -> Vec<String> {
        self.actions
            .keys()
            .filter(|k| !workflow.action_list.contains_key(*k))
            .cloned()
            .collect()
    }
}

/// The longest duration a plan takes (a year, in seconds): `1e308` passed the finiteness check,
/// summed to an infinite makespan and hung the chart's tick loop (found by audit).
pub const MAX_SECONDS: f64 = 365.0 * 24.0 * 3600.0;

/// Whether `s` is a duration a plan accepts: from 0 to [`MAX_SECONDS`].
pub fn is_plan_seconds(s: f64) -> bool {
    (0.0..=MAX_SECONDS).contains(&s)
}

fn seconds(name: &str, v: &Value) -> Result<f64, String> {
    match v.as_f64() {
        Some(s) if is_plan_seconds(s) => Ok(s),
        _ => Err(format!(
            "\"{name}\": {v} is not a number of seconds from 0 to {MAX_SECONDS} (a year)"
        )),
    }
}

/// The timing model.
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// Per action.
    pub durations: Durations,
    /// From vm_start's request to the runner online (field: 30–60 s warm, 2–4 min cold).
    pub boot: f64,
    /// Extra wait for the EC2 status checks when `WaitForStatusChecks` (field: 3–5 min).
    pub status_lag: f64,
    /// From a dispatch to the job running (field: 5–20 s).
    pub dispatch_latency: f64,
    /// How long vm_start and vm_stop jobs take once running (one API call).
    pub lifecycle_call: f64,
    /// Mean delay between the runner coming online and the poll noticing (measured: 3.1 s).
    pub detection_lag: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            durations: Durations::default(),
            boot: 90.0,
            status_lag: 0.0,
            dispatch_latency: 10.0,
            lifecycle_call: 2.0,
            detection_lag: 3.1,
        }
    }
}

/// The branch every conditional action takes in one execution.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scenario {
    /// Conditional action → its result (true picks `True`).
    pub choices: BTreeMap<String, bool>,
}

impl Scenario {
    /// `a=True, b=False`, or `(no conditionals)`.
    pub fn label(&self) -> String {
        if self.choices.is_empty() {
            return "(no conditionals)".into();
        }
        self.choices
            .iter()
            .map(|(a, c)| format!("{a}={}", if *c { "True" } else { "False" }))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Parses `a=True,b=false`; every name must be a conditional action of `workflow`;
    /// conditionals not named take True.
    pub fn parse(text: &str, workflow: &Workflow) -> Result<Self, String> {
        let conditionals = conditional_actions(workflow);
        let mut s = Scenario {
            choices: conditionals.iter().map(|c| (c.clone(), true)).collect(),
        };
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((name, value)) = part.split_once('=') else {
                return Err(format!("\"{part}\" is not ACTION=True or ACTION=False"));
            };
            let (name, value) = (name.trim(), value.trim());
            if !conditionals.iter().any(|c| c == name) {
                return Err(format!(
                    "\"{name}\" is not a conditional action (those are: {})",
                    if conditionals.is_empty() {
                        "none".to_owned()
                    } else {
                        conditionals.join(", ")
                    }
                ));
            }
            let choice = match value.to_ascii_lowercase().as_str() {
                "true" => true,
                "false" => false,
                _ => return Err(format!("\"{value}\" for {name}: use True or False")),
            };
            s.choices.insert(name.to_owned(), choice);
        }
        Ok(s)
    }
}

/// Actions with a conditional InvokeNext, in file order.
pub fn conditional_actions(workflow: &Workflow) -> Vec<String> {
    let graph = Graph::build(workflow);
    (0..graph.len())
        .filter(|&n| graph.out_edges(n).iter().any(|e| e.branch.is_some()))
        .map(|n| graph.name(n).to_owned())
        .collect()
}

/// Every combination of conditional results (2^k), or `None` when there are more than `limit`.
pub fn scenarios(workflow: &Workflow, limit: usize) -> Option<Vec<Scenario>> {
    let conditionals = conditional_actions(workflow);
    if conditionals.len() >= usize::BITS as usize || (1usize << conditionals.len()) > limit {
        return None;
    }
    Some(
        (0..1usize << conditionals.len())
            .map(|bits| Scenario {
                choices: conditionals
                    .iter()
                    .enumerate()
                    // Bit clear = True, so the first scenario is "everything True".
                    .map(|(i, c)| (c.clone(), bits & (1 << i) == 0))
                    .collect(),
            })
            .collect(),
    )
}

/// What one strategy costs in one scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// From the invocation to the end of the last job.
    pub makespan: f64,
    /// When each VM action started (first copy), in start order.
    pub vm_action_starts: Vec<(String, f64)>,
    /// From the start request to the stop request.
    pub vm_billed: f64,
    /// Billed time with no VM action running.
    pub vm_idle: f64,
    /// Hosted-runner seconds spent in polls.
    pub poll_seconds: f64,
    /// The chain of jobs that sets the makespan, first to last.
    pub critical_path: Vec<String>,
}

impl Metrics {
    /// Measures a schedule.
    pub fn of(schedule: &Schedule) -> Self {
        let mut vm_jobs: Vec<&Job> = schedule
            .jobs
            .iter()
            .filter(|j| j.kind == JobKind::VmAction)
            .collect();
        vm_jobs.sort_by(|a, b| a.start.total_cmp(&b.start));
        let busy = union_length(vm_jobs.iter().map(|j| (j.start, j.finish)));
        let vm_billed = schedule
            .vm
            .map(|w| (w.stopped - w.requested).max(0.0))
            .unwrap_or(0.0);
        Metrics {
            makespan: schedule.makespan,
            vm_action_starts: vm_jobs
                .iter()
                .map(|j| (j.action.clone(), j.start))
                .collect(),
            vm_billed,
            vm_idle: (vm_billed - busy).max(0.0),
            poll_seconds: schedule
                .jobs
                .iter()
                .filter(|j| j.kind == JobKind::Poll)
                .map(|j| j.finish - j.start)
                .sum(),
            critical_path: schedule.critical_path(),
        }
    }
}

/// Total length of a union of intervals sorted by start.
fn union_length(intervals: impl Iterator<Item = (f64, f64)>) -> f64 {
    let mut total = 0.0;
    let mut current: Option<(f64, f64)> = None;
    for (s, e) in intervals {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            Some((cs, ce)) => {
                total += ce - cs;
                current = Some((s, e));
            }
            None => current = Some((s, e)),
        }
    }
    total + current.map_or(0.0, |(s, e)| e - s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_in_both_forms() {
        let d = Durations::from_value(&json!({"train": 3600, "default": 30})).unwrap();
        assert_eq!((d.of("train"), d.of("x")), (3600.0, 30.0));
        let d = Durations::from_value(&json!({"default": 5, "actions": {"a": 1.5}})).unwrap();
        assert_eq!((d.of("a"), d.of("b")), (1.5, 5.0));
        assert!(
            Durations::from_value(&json!({"a": -1}))
                .unwrap_err()
                .contains("\"a\"")
        );
        assert!(Durations::from_value(&json!({"actions": {}, "x": 1})).is_err());
        assert!(Durations::from_value(&json!([1])).is_err());
    }

    #[test]
    fn unions() {
        let u = union_length([(0.0, 10.0), (5.0, 12.0), (20.0, 25.0)].into_iter());
        assert_eq!(u, 17.0);
    }
}
