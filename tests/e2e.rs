//! End to end: whole workflow runs prove the VM is stopped in every scenario.
//!
//! Each test starts its own moto (EC2 and S3) and fake GitHub API, prepares the workflow as a
//! user would (`ephflow augment`, `ephflow register --builtins native`, commit, `ephflow
//! invoke`) and plays the run with a local dispatcher (tests/e2e/dispatcher.rs): every
//! recorded workflow dispatch becomes a concurrent job; lifecycle actions run their rendered
//! step (`ephflow action run`), user actions a stand-in for FaaSr's runtime (markers, fan-in,
//! conditionals, ranks, OVERWRITTEN propagation), a failed job is followed by its rendered
//! `stop_vm_on_failure` job (the AWS CLI against moto), and a runner agent keeps the VM's
//! runner online exactly while the instance runs.
//!
//! Every run asserts (tests/e2e/harness.rs, `World::check`): the jobs that fail are exactly the
//! scripted ones, each followed by its teardown; each VM action ran with the instance running
//! and the runner online, as many times as expected; no action copy ran twice; no stop (a
//! vm_stop that ran, or any StopInstances request) before the last VM action finished;
//! exactly one vm_stop stopped the VM in a run without failures, the failure teardown
//! otherwise; the instance is stopped (or stopping) at the end; and the run ended (queue
//! drained, every thread joined) within a generous bound. Each prints one line of figures
//! (jobs, EC2 calls by action, GitHub calls, wall time).

mod support;

#[path = "e2e/dispatcher.rs"]
mod dispatcher;
#[path = "e2e/ec2_proxy.rs"]
mod ec2_proxy;
#[path = "e2e/events.rs"]
mod events;
#[path = "e2e/harness.rs"]
mod harness;
#[path = "e2e/rendered.rs"]
mod rendered;
#[path = "e2e/standin.rs"]
mod standin;

use harness::Scenario;
use serde_json::json;

const EXCLUSIVE_LEAVES: &str = "tests/fixtures/augment/exclusive-leaves.json";

/// FaaSr's own VM workflow: a VM branch beside two serverless ones, a fan-in, a second VM
/// action in parallel with a serverless one, a final join.
#[test]
fn rworkflowvm_complex() {
    Scenario::corpus("rworkflowvm_complex", "rworkflowvm_complex.json")
        .vm_runs("transform-2", 1)
        .vm_runs("compute-intensive", 1)
        .run();
}

/// FLARE, the conditional goes True: a second VM action, then a serverless tail.
#[test]
fn flare_workflow_true() {
    Scenario::corpus("flare_workflow True", "flare_workflow.json")
        .returns("check-anoxia", true)
        .vm_runs("forecast-HOx-off", 1)
        .vm_runs("forecast-HOx-on", 1)
        .run();
}

/// FLARE, the conditional goes False: the run ends on a serverless leaf after one VM action.
#[test]
fn flare_workflow_false() {
    Scenario::corpus("flare_workflow False", "flare_workflow.json")
        .returns("check-anoxia", false)
        .vm_runs("forecast-HOx-off", 1)
        .run();
}

/// Leaves on exclusive branches (the reference tool's deadlock): the VM branch is taken.
#[test]
fn exclusive_leaves_true() {
    Scenario::fixture("exclusive-leaves True", EXCLUSIVE_LEAVES)
        .returns("check", true)
        .vm_runs("heavy", 1)
        .run();
}

/// Leaves on exclusive branches: the VM branch is not taken; the other branch's stop runs.
#[test]
fn exclusive_leaves_false() {
    Scenario::fixture("exclusive-leaves False", EXCLUSIVE_LEAVES)
        .returns("check", false)
        .run();
}

/// A ranked VM action: four copies on the VM at once, then a fan-in of all four.
#[test]
fn ranked_vm_action() {
    Scenario::fixture(
        "ranked-vm-action",
        "tests/fixtures/augment/ranked-vm-action.json",
    )
    .vm_runs("simulate", 4)
    .run();
}

/// A hop through Lambda (a ranked Lambda action the stand-in invokes directly) before the
/// VM action's poll, whose fan-in waits for both copies.
#[test]
fn lambda_hop() {
    Scenario::fixture("lambda-hop", "tests/fixtures/e2e/lambda-hop.json")
        .vm_runs("heavy", 1)
        .run();
}

/// A VM action fails: its stop_vm_on_failure job stops the VM; nothing after it runs.
#[test]
fn failing_vm_action() {
    Scenario::corpus("failing VM action", "rworkflowvm_complex.json")
        .failing("transform-2")
        .vm_runs("transform-2", 1)
        .run();
}

/// The runner never comes online: the poll times out (exit 4) and its stop_vm_on_failure job
/// stops the VM the workflow started.
#[test]
fn failing_poll() {
    Scenario::fixture("failing poll", "tests/fixtures/augment/fan-in-to-vm.json")
        .runner_never_online("faasr-vm-poll-combine")
        .vm_config("StatusTimeout", json!(10))
        .vm_config("RunnerTimeout", json!(3))
        .run();
}

/// The harness itself: a workflow whose stop runs before its VM action (start → stop → poll →
/// VM action; the poll starts the VM again) must fail the ordering check, so the check is not
/// vacuous.
#[test]
#[should_panic(expected = "before the last VM action ended")]
fn a_stop_before_a_vm_action_is_caught() {
    Scenario::augmented(
        "premature stop",
        "tests/fixtures/e2e/premature-stop_augmented.json",
    )
    .vm_runs("heavy", 1)
    .run();
}

/// Keyless: VMConfig.RoleArn and no VM key secret anywhere. Every lifecycle action assumes the
/// role with its job's OIDC token (the fake GitHub's, exchanged at moto's STS), and the failing
/// VM action's teardown job does the same with curl, jq and the AWS CLI.
#[test]
fn keyless_with_a_failing_vm_action() {
    Scenario::corpus(
        "keyless (OIDC), failing VM action",
        "rworkflowvm_complex.json",
    )
    .vm_config(
        "RoleArn",
        json!("arn:aws:iam::123456789012:role/ephflow-e2e"),
    )
    .without_vm_keys()
    .failing("transform-2")
    .vm_runs("transform-2", 1)
    .run();
}
