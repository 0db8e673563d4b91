//! The event log of one scenario: job starts and ends, the VM state each VM action saw, and
//! the EC2 requests that change the VM's power state, in one sequence. Ordering claims ("no
//! stop before the last VM action finished") are checked on sequence numbers, never on timings.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// Who ran a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// A lifecycle action: the rendered job's step, `ephflow action run`.
    Builtin,
    /// A user action: the stand-in for FaaSr's runtime.
    User,
    /// A rendered `stop_vm_on_failure` job, played after its job failed.
    Teardown,
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It did its work, wrote its marker and dispatched its successors.
    Ran,
    /// Fan-in: a predecessor's marker is missing; the last predecessor's invocation runs it.
    Waiting,
    /// Fan-in: another invocation won the election.
    Lost,
    /// It failed (exit code, or 1 for a scripted user failure).
    Failed(i32),
}

/// One entry of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A job began.
    Start {
        /// Job number (dispatch order).
        job: usize,
        /// The action.
        action: String,
        /// Its FunctionRank.
        rank: Option<u32>,
        /// Who runs it.
        runner: Runner,
    },
    /// A VM action passed its fan-in and its code would run now: what it found.
    VmAction {
        /// Job number.
        job: usize,
        /// The action.
        action: String,
        /// The EC2 instance was running.
        instance_running: bool,
        /// The runner was online.
        runner_online: bool,
    },
    /// A job ended.
    End {
        /// Job number.
        job: usize,
        /// How.
        outcome: Outcome,
    },
    /// An EC2 request that changes the power state reached moto (StartInstances,
    /// StopInstances).
    Ec2 {
        /// The EC2 action.
        action: String,
    },
}

/// The shared log; the index of an event is its sequence number.
#[derive(Debug, Default)]
pub struct EventLog(Mutex<Vec<Event>>);

impl EventLog {
    /// Appends `event`; returns its sequence number.
    pub fn push(&self, event: Event) -> usize {
        let mut events = self.0.lock().expect("not poisoned");
        events.push(event);
        events.len() - 1
    }

    /// A copy of every event, in order.
    pub fn events(&self) -> Vec<Event> {
        self.0.lock().expect("not poisoned").clone()
    }
}

/// A job as the log tells it.
#[derive(Debug, Clone)]
pub struct JobRecord {
    /// The action.
    pub action: String,
    /// Its FunctionRank.
    pub rank: Option<u32>,
    /// Who ran it.
    pub runner: Runner,
    /// Sequence number of its start.
    pub start: usize,
    /// Sequence number of its end, and how it ended.
    pub end: Option<(usize, Outcome)>,
}

/// The log folded into jobs, for the assertions.
pub struct Timeline {
    /// Every event.
    pub events: Vec<Event>,
    /// Jobs by number.
    pub jobs: BTreeMap<usize, JobRecord>,
}

impl Timeline {
    /// Folds `events`.
    pub fn new(events: Vec<Event>) -> Self {
        let mut jobs = BTreeMap::new();
        for (seq, event) in events.iter().enumerate() {
            match event {
                Event::Start {
                    job,
                    action,
                    rank,
                    runner,
                } => {
                    jobs.insert(
                        *job,
                        JobRecord {
                            action: action.clone(),
                            rank: *rank,
                            runner: *runner,
                            start: seq,
                            end: None,
                        },
                    );
                }
                Event::End { job, outcome } => {
                    let record = jobs.get_mut(job).expect("a job ends after it starts");
                    record.end = Some((seq, outcome.clone()));
                }
                Event::VmAction { .. } | Event::Ec2 { .. } => {}
            }
        }
        Timeline { events, jobs }
    }

    /// The jobs run by `runner`.
    pub fn by(&self, runner: Runner) -> impl Iterator<Item = &JobRecord> {
        self.jobs.values().filter(move |j| j.runner == runner)
    }

    /// The sequence numbers of the EC2 requests for `action`.
    pub fn ec2(&self, action: &str) -> Vec<usize> {
        self.events
            .iter()
            .enumerate()
            .filter(|(_, e)| matches!(e, Event::Ec2 { action: a } if a == action))
            .map(|(seq, _)| seq)
            .collect()
    }

    /// The VM actions that passed their fan-in, with what they found.
    pub fn vm_actions(&self) -> Vec<(usize, String, bool, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::VmAction {
                    job,
                    action,
                    instance_running,
                    runner_online,
                } => Some((*job, action.clone(), *instance_running, *runner_online)),
                _ => None,
            })
            .collect()
    }

    /// The log, one event a line, for failure messages.
    pub fn render(&self) -> String {
        self.events
            .iter()
            .enumerate()
            .map(|(seq, e)| format!("{seq:4} {e:?}"))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
