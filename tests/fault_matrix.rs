//! The fault matrix (docs/fault-matrix.md), end to end: the binary against a scripted fake EC2
//! (`FakeEc2`), the fake GitHub API (`answer_next`) and moto's S3, one test per row that no
//! other test backs. Each asserts the exit code, the named error (class and key words), that
//! the command ended in bounded time (a generous hang guard, not a performance assertion), and,
//! where the VM may have started, that a stop is attempted: the job exits non-zero and its
//! rendered workflow has the `stop_vm_on_failure` job that GitHub then runs.

mod support;

use std::process::Output;
use std::time::{Duration, Instant};

use ephflow_aws::testkit::{Answer, FakeEc2};
use ephflow_core::action::CompletionStore;
use ephflow_core::testkit::http::{self, Reply, Request};
use serde_json::{Value, json};
use support::world::*;

/// Hang guard: no command here may take longer (five EC2 attempts back off ~20 s in all).
const GUARD: Duration = Duration::from_secs(120);

fn instance(world: &World) -> String {
    let w: Value =
        serde_json::from_str(&std::fs::read_to_string(&world.workflow).unwrap()).unwrap();
    w["VMConfig"]["InstanceId"].as_str().unwrap().to_owned()
}

/// Changes the workflow, locally and as committed on the fake GitHub.
fn edit_workflow(world: &World, edit: impl FnOnce(&mut Value)) {
    let mut w: Value =
        serde_json::from_str(&std::fs::read_to_string(&world.workflow).unwrap()).unwrap();
    edit(&mut w);
    let text = serde_json::to_string_pretty(&w).unwrap();
    std::fs::write(&world.workflow, &text).unwrap();
    world.gh.add_file(PAYLOAD_PATH, "main", text.as_bytes());
}

/// Runs `cmd`, asserting it ends within the guard and leaks no secret.
fn timed(cmd: &mut std::process::Command) -> Output {
    let t0 = Instant::now();
    let out = cmd.output().unwrap();
    let took = t0.elapsed();
    assert!(took < GUARD, "took {took:?}: {}", text(&out));
    no_secrets(&out);
    out
}

/// `ephflow vm ARGS --workflow W` with the VM's credentials, EC2 at `ec2`.
fn vm(world: &World, ec2: &str, args: &[&str]) -> std::process::Command {
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"));
    cmd.arg("vm")
        .args(args)
        .arg("--workflow")
        .arg(&world.workflow)
        .env("AWS_ENDPOINT_URL_EC2", ec2)
        .env("VM_AccessKey", VM_ACCESS)
        .env("VM_SecretKey", VM_SECRET)
        .env("GITHUB_API_URL", &world.gh.url)
        .env("GH_PAT", GH_TOKEN)
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY");
    cmd
}

/// The rendered workflow file of `action` (native builtins) has the failure-teardown job.
fn assert_teardown_rendered(world: &World, action: &str) {
    let out = world.dir.path().join("rendered");
    ephflow()
        .arg("register")
        .arg(&world.workflow)
        .args([
            "--builtins",
            "native",
            "--builtin-image",
            "ghcr.io/x/ephflow:1",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let yml = std::fs::read_to_string(out.join(format!("fan-in-{action}.yml"))).unwrap();
    assert!(yml.contains("stop_vm_on_failure:"), "{yml}");
    assert!(yml.contains("failure() || cancelled()"), "{yml}");
}

/// The rendered workflow file of `action` has no failure-teardown job (the reaper covers it).
fn assert_no_teardown_rendered(world: &World, action: &str) {
    let out = world.dir.path().join("rendered-none");
    ephflow()
        .arg("register")
        .arg(&world.workflow)
        .args([
            "--builtins",
            "native",
            "--builtin-image",
            "ghcr.io/x/ephflow:1",
        ])
        .arg("--out")
        .arg(&out)
        .assert()
        .code(0);
    let yml = std::fs::read_to_string(out.join(format!("fan-in-{action}.yml"))).unwrap();
    assert!(!yml.contains("stop_vm_on_failure"), "{yml}");
}

const TIMESTAMP: &str = "2026-12-04T20-00-00";

/// The OVERWRITTEN of a dispatch of the poll in invocation `id`.
fn poll_overwritten(id: &str) -> Value {
    json!({"FunctionInvoke": "faasr-vm-poll-train", "InvocationID": id, "InvocationTimestamp": TIMESTAMP})
}

/// Writes the poll's three predecessor markers and returns its OVERWRITTEN.
fn poll_ready(world: &World, id: &str) -> Value {
    let store = world.store();
    for rank in 1..=3 {
        let key =
            format!("FaaSrLog/fan-in/{TIMESTAMP}/{id}/function_completions/shard.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    poll_overwritten(id)
}

/// What S3 answers a request the credentials may not make.
fn s3_access_denied() -> Reply {
    Reply::Send {
        status: 403,
        headers: vec![("Content-Type".into(), "application/xml".into())],
        body: r#"<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>r</RequestId></Error>"#.into(),
    }
}

fn poll_marker(world: &World, id: &str) -> bool {
    block_on(
        world
            .store()
            .exists(&marker(id, TIMESTAMP, "faasr-vm-poll-train")),
    )
    .unwrap()
}

fn requests(world: &World, part: &str) -> usize {
    world
        .gh
        .seen()
        .iter()
        .filter(|s| s.path.contains(part))
        .count()
}

// ---- EC2 -------------------------------------------------------------------------------------

#[test]
fn ec2_throttling_that_persists_fails_start_after_five_attempts() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    let ec2 = FakeEc2::start(
        &id,
        "stopped",
        (0..10)
            .map(|_| ("StartInstances", Answer::Error(503, "RequestLimitExceeded")))
            .collect(),
    );
    let out = timed(&mut vm(&world, &ec2.url, &["start"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("was throttled") && all.contains("RequestLimitExceeded"),
        "{all}"
    );
    assert!(all.contains(&id), "{all}");
    assert_eq!(
        ec2.count("StartInstances"),
        5,
        "retried, within the attempt bound"
    );
}

#[test]
fn ec2_internal_error_that_persists_fails_stop_after_five_attempts() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    let ec2 = FakeEc2::start(
        &id,
        "running",
        (0..10)
            .map(|_| ("StopInstances", Answer::Error(500, "InternalError")))
            .collect(),
    );
    let out = timed(&mut vm(&world, &ec2.url, &["stop"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("failed on AWS's side") && all.contains("InternalError"),
        "{all}"
    );
    assert_eq!(ec2.count("StopInstances"), 5);
    // A failed stop has no teardown job of its own: it is the reaper's.
    assert_no_teardown_rendered(&world, "faasr-vm-stop");
}

#[test]
fn ec2_no_capacity_fails_vm_start_with_no_marker_and_no_dispatch() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    let ec2 = FakeEc2::start(
        &id,
        "stopped",
        (0..10)
            .map(|_| {
                (
                    "StartInstances",
                    Answer::Error(500, "InsufficientInstanceCapacity"),
                )
            })
            .collect(),
    );
    let out = timed(
        world
            .action(&json!({"FunctionInvoke": "faasr-vm-start"}))
            .env("AWS_ENDPOINT_URL_EC2", &ec2.url),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("no capacity") && all.contains("InsufficientInstanceCapacity"),
        "{all}"
    );
    assert_eq!(ec2.count("StartInstances"), 5);
    assert!(
        world.dispatches().is_empty(),
        "nothing dispatched after a failed start"
    );
}

#[test]
fn ec2_incorrect_instance_state_is_not_retried() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    let ec2 = FakeEc2::start(
        &id,
        "running",
        vec![(
            "StopInstances",
            Answer::Error(400, "IncorrectInstanceState"),
        )],
    );
    let out = timed(&mut vm(&world, &ec2.url, &["stop"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("ec2:StopInstances refused") && all.contains("IncorrectInstanceState"),
        "{all}"
    );
    assert_eq!(ec2.count("StopInstances"), 1);
}

#[test]
fn ec2_auth_failure_fails_at_once_naming_the_secrets() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    let ec2 = FakeEc2::start(
        &id,
        "stopped",
        vec![("StartInstances", Answer::Error(401, "AuthFailure"))],
    );
    let out = timed(&mut vm(&world, &ec2.url, &["start"]));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("AWS rejected the credentials for ec2:StartInstances"),
        "{all}"
    );
    assert!(
        all.contains("check the VM_AccessKey / VM_SecretKey secrets"),
        "{all}"
    );
    assert_eq!(ec2.count("StartInstances"), 1);
}

#[test]
fn ec2_denied_during_a_native_poll_fails_the_job_so_its_teardown_runs() {
    let Some(world) = World::start() else { return };
    let id = instance(&world);
    // The VM was started (by vm_start); the poll may not describe it.
    let ec2 = FakeEc2::start(
        &id,
        "running",
        (0..10)
            .map(|_| {
                (
                    "DescribeInstanceStatus",
                    Answer::Error(403, "UnauthorizedOperation"),
                )
            })
            .collect(),
    );
    let overwritten = poll_ready(&world, "ec2-denied");
    let out = timed(
        world
            .action(&overwritten)
            .env("AWS_ENDPOINT_URL_EC2", &ec2.url),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("may not call ec2:DescribeInstanceStatus"),
        "{all}"
    );
    assert!(all.contains("ephflow iam-policy"), "{all}");
    assert_eq!(ec2.count("DescribeInstanceStatus"), 1, "not retried");
    assert!(!poll_marker(&world, "ec2-denied"));
    assert!(world.dispatches().is_empty());
    assert_teardown_rendered(&world, "faasr-vm-poll-train");
}

// ---- GitHub ----------------------------------------------------------------------------------

#[test]
fn github_refusals_during_a_native_poll_fail_the_job_so_its_teardown_runs() {
    for (status, words) in [
        (401, "check the PAT secret"),
        (403, "Administration: read"),
        (404, "UserName/ActionRepoName"),
    ] {
        let Some(world) = World::start() else { return };
        world.gh.answer_next("/actions/runners", status, &[]);
        let id = format!("gh-{status}");
        let overwritten = poll_ready(&world, &id);
        let out = timed(&mut world.action(&overwritten));
        assert_eq!(out.status.code(), Some(3), "{status}: {}", text(&out));
        let all = text(&out);
        assert!(all.contains(words), "{status}: {all}");
        assert!(all.contains(&format!("({status})")), "{status}: {all}");
        assert_eq!(
            requests(&world, "/actions/runners"),
            1,
            "{status}: not retried"
        );
        // The poll had started the (stopped) VM: its job fails, its teardown stops the VM.
        assert_ne!(world.vm_state(), "stopped");
        assert!(!poll_marker(&world, &id));
        assert!(world.dispatches().is_empty());
        assert_teardown_rendered(&world, "faasr-vm-poll-train");
    }
}

#[test]
fn github_server_errors_and_secondary_limits_are_retried_by_the_poll() {
    let Some(world) = World::start() else { return };
    world.gh.answer_next("/actions/runners", 502, &[]);
    world
        .gh
        .answer_next("/actions/runners", 403, &[("retry-after", "1")]);
    world.gh.answer_next("/actions/runners", 503, &[]);
    let overwritten = poll_ready(&world, "gh-5xx");
    let out = timed(&mut world.action(&overwritten));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        requests(&world, "/actions/runners"),
        4,
        "three failures, then online"
    );
    assert!(poll_marker(&world, "gh-5xx"));
    assert_eq!(
        world.dispatches().len(),
        1,
        "then the VM action starts, once"
    );
}

#[test]
fn github_rate_limit_beyond_the_budget_fails_the_poll_at_once() {
    let Some(world) = World::start() else { return };
    world.gh.answer_next(
        "/actions/runners",
        403,
        &[
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "4102444800"),
        ],
    );
    let overwritten = poll_ready(&world, "gh-limit");
    let t0 = Instant::now();
    let out = timed(&mut world.action(&overwritten));
    assert!(t0.elapsed() < Duration::from_secs(60), "not waited for");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("rate limit") && all.contains("4102444800"),
        "{all}"
    );
    assert!(all.contains("budget"), "{all}");
    assert!(!poll_marker(&world, "gh-limit"));
    assert_teardown_rendered(&world, "faasr-vm-poll-train");
}

#[test]
fn a_runner_that_never_comes_online_times_out_naming_the_phase() {
    let Some(world) = World::start() else { return };
    world.gh.set_runner("vm-runner-1", "offline", false);
    edit_workflow(&world, |w| w["VMConfig"]["RunnerTimeout"] = json!(5));
    let overwritten = poll_ready(&world, "never-online");
    let out = timed(&mut world.action(&overwritten));
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("timed out") && all.contains("waiting-for-runner"),
        "{all}"
    );
    assert!(!poll_marker(&world, "never-online"));
    assert!(world.dispatches().is_empty());
    assert_ne!(
        world.vm_state(),
        "stopped",
        "started: the teardown job stops it"
    );
    assert_teardown_rendered(&world, "faasr-vm-poll-train");
}

#[test]
fn a_failed_dispatch_after_the_poll_is_not_resent_and_fails_the_job() {
    for (status, code) in [(502, 3), (422, 1)] {
        let Some(world) = World::start() else { return };
        world.gh.answer_next("/dispatches", status, &[]);
        let id = format!("dispatch-{status}");
        let overwritten = poll_ready(&world, &id);
        let out = timed(&mut world.action(&overwritten));
        assert_eq!(out.status.code(), Some(code), "{status}: {}", text(&out));
        let all = text(&out);
        assert!(all.contains("dispatching \"train\""), "{status}: {all}");
        assert!(
            all.contains("after the VM operation and the marker"),
            "{all}"
        );
        if status == 502 {
            assert!(all.contains("not re-sent"), "{all}");
        } else {
            assert!(all.contains("422"), "{all}");
        }
        assert_eq!(
            world.dispatches().len(),
            1,
            "{status}: a dispatch is never re-sent"
        );
        // The VM runs and the job failed: its teardown job stops the VM.
        assert_eq!(world.vm_state(), "running");
        assert_teardown_rendered(&world, "faasr-vm-poll-train");
    }
}

#[test]
fn a_failed_dispatch_after_vm_start_fails_the_job_and_its_teardown_stops_the_vm() {
    let Some(world) = World::start() else { return };
    world.gh.answer_next("/dispatches", 500, &[]);
    let out = timed(&mut world.action(&json!({"FunctionInvoke": "faasr-vm-start"})));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("dispatching \"prepare\"") && all.contains("not re-sent"),
        "{all}"
    );
    // The VM was started and the job failed: vm_start's teardown job stops it.
    assert_ne!(world.vm_state(), "stopped");
    assert_teardown_rendered(&world, "faasr-vm-start");
}

/// A GitHub API that accepts the connection and never answers: the client's read timeout
/// (20 s) cuts each request. A hung runner check is retried like any transient failure; a hung
/// dispatch may have started the workflow, so it is not re-sent and the job fails (its
/// teardown stops the VM).
#[test]
fn a_hanging_github_is_cut_by_the_client_timeouts() {
    let Some(world) = World::start() else { return };
    world.gh.hang_next("/actions/runners");
    let overwritten = poll_ready(&world, "gh-hangs");
    let out = timed(&mut world.action(&overwritten));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        requests(&world, "/actions/runners"),
        2,
        "the hung check, then online"
    );
    assert!(poll_marker(&world, "gh-hangs"));
    assert_eq!(world.dispatches().len(), 1);

    let Some(world) = World::start() else { return };
    world.gh.hang_next("/dispatches");
    let overwritten = poll_ready(&world, "dispatch-hangs");
    let out = timed(&mut world.action(&overwritten));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("dispatching \"train\"") && all.contains("not re-sent"),
        "{all}"
    );
    assert!(
        all.contains("got no answer") && all.contains("timed out"),
        "the cause is named: {all}"
    );
    assert_eq!(world.dispatches().len(), 1, "a dispatch is never re-sent");
    assert_eq!(world.vm_state(), "running");
    assert_teardown_rendered(&world, "faasr-vm-poll-train");
}

#[test]
fn a_workflow_fetch_that_fails_transiently_is_retried() {
    let Some(world) = World::start() else { return };
    world.gh.answer_next("/contents/", 502, &[]);
    let out = timed(&mut world.action(&json!({"FunctionInvoke": "faasr-vm-start"})));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(requests(&world, "/contents/"), 2);
    assert_eq!(world.dispatches().len(), 1);
}

// ---- S3 --------------------------------------------------------------------------------------

#[test]
fn an_unreachable_store_fails_the_poll_before_the_vm_is_touched() {
    let Some(world) = World::start() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let dead = format!("http://127.0.0.1:{port}");
    edit_workflow(&world, |w| {
        w["DataStores"]["Store"]["Endpoint"] = json!(dead)
    });
    let out = timed(&mut world.action(&poll_overwritten("s3-down")));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains(&dead) && all.contains("ephflow-fan-in"),
        "{all}"
    );
    assert_eq!(world.vm_state(), "stopped", "the fan-in check comes first");
    assert!(world.dispatches().is_empty());
}

#[test]
fn a_store_that_denies_access_names_the_permission() {
    let Some(world) = World::start() else { return };
    let denied = http::serve(|_: &Request| s3_access_denied());
    edit_workflow(&world, |w| {
        w["DataStores"]["Store"]["Endpoint"] = json!(denied)
    });
    let out = timed(&mut world.action(&poll_overwritten("s3-denied")));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("s3:GetObject") && all.contains("ephflow-fan-in"),
        "{all}"
    );
    assert_eq!(world.vm_state(), "stopped", "the fan-in check comes first");
    assert!(world.dispatches().is_empty());
}

// ---- reaper ----------------------------------------------------------------------------------

#[test]
fn the_reaper_stops_nothing_when_github_fails() {
    let Some(world) = World::start() else { return };
    world.start_vm();
    for _ in 0..3 {
        world.gh.answer_next("/actions/runners", 502, &[]);
    }
    let out = timed(
        ephflow_std()
            .args([
                "vm",
                "reap",
                "--idle",
                "0s",
                "--max-lifetime",
                "0s",
                "--workflow",
            ])
            .arg(&world.workflow)
            .env("GITHUB_API_URL", &world.gh.url)
            .env("GH_PAT", GH_TOKEN)
            .env("AWS_ENDPOINT_URL_EC2", &world.moto.url)
            .env("VM_AccessKey", VM_ACCESS)
            .env("VM_SecretKey", VM_SECRET)
            .env_remove("GITHUB_TOKEN")
            .env_remove("PAYLOAD_URL"),
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("nothing stopped") && all.contains("502"),
        "{all}"
    );
    assert_eq!(world.vm_state(), "running", "refuses to guess");
}

fn ephflow_std() -> std::process::Command {
    std::process::Command::new(assert_cmd::cargo::cargo_bin("ephflow"))
}

// ---- inputs a dispatcher controls (docs/security.md) ------------------------------------------

#[test]
fn overwritten_may_not_point_the_lifecycle_at_another_vm() {
    let Some(world) = World::start() else { return };
    // The stores too: markers must all land in one place, and an odd endpoint there made the
    // S3 client panic (found by audit).
    for field in [
        "VMConfig",
        "ComputeServers",
        "ActionList",
        "DataStores",
        "DefaultDataStore",
    ] {
        let mut overwritten = json!({"FunctionInvoke": "faasr-vm-start"});
        let mut w: Value =
            serde_json::from_str(&std::fs::read_to_string(&world.workflow).unwrap()).unwrap();
        if field == "VMConfig" {
            w[field]["InstanceId"] = json!("i-0bbbbbbbbbbbbbbbb");
        }
        if field == "DataStores" {
            w[field]["Store"]["Endpoint"] = json!("http://[::1");
        }
        overwritten[field] = w[field].clone();
        let out = timed(&mut world.action(&overwritten));
        assert_eq!(out.status.code(), Some(1), "{field}: {}", text(&out));
        assert!(
            text(&out).contains(&format!("OVERWRITTEN replaces {field}")),
            "{field}: {}",
            text(&out)
        );
    }
    assert!(world.dispatches().is_empty(), "nothing dispatched");
    assert_eq!(world.vm_state(), "stopped", "nothing started");
}

// ---- the documents point at tests that exist --------------------------------------------------

/// Every `file::test` reference in docs/fault-matrix.md and docs/security.md names a function
/// that exists in that file (short names as the fault matrix defines them).
#[test]
fn every_test_the_documents_cite_exists() {
    let root = support::root();
    let alias = |name: &str| match name {
        "faults" => Some("providers/aws-ec2/tests/faults.rs".to_owned()),
        "lifecycle" => Some("core/tests/lifecycle.rs".to_owned()),
        "fake_github" => Some("backends/github-actions/tests/fake_github.rs".to_owned()),
        "s3_moto" => Some("stores/s3/tests/moto.rs".to_owned()),
        "fault_matrix" => Some("tests/fault_matrix.rs".to_owned()),
        n if n.ends_with(".rs") => Some(n.to_owned()),
        _ => None,
    };
    let mut checked = 0;
    for doc in ["docs/fault-matrix.md", "docs/security.md"] {
        let text = std::fs::read_to_string(root.join(doc)).unwrap();
        for (i, quoted) in text.split('`').enumerate() {
            // Odd pieces are inside backticks.
            if i % 2 == 0 || !quoted.contains("::") || quoted.contains(' ') {
                continue;
            }
            let (head, _) = quoted.split_once("::").unwrap();
            let Some(file) = alias(head) else {
                continue;
            };
            let name = quoted.rsplit("::").next().unwrap();
            let source = std::fs::read_to_string(root.join(&file))
                .unwrap_or_else(|e| panic!("{doc}: {quoted}: {file}: {e}"));
            assert!(
                source.contains(&format!("fn {name}(")),
                "{doc}: {quoted}: no fn {name} in {file}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 40, "only {checked} references found");
}

/// A store that reads and takes conditional creates (the fan-in claim) but refuses plain
/// writes: the poll's completion marker, after the VM operation.
#[test]
fn a_marker_write_refused_after_the_poll_fails_the_job_so_its_teardown_runs() {
    let Some(world) = World::start() else { return };
    let store = http::serve(|r: &Request| {
        let ok = |body: &str| Reply::Send {
            status: 200,
            headers: vec![
                (
                    "Last-Modified".into(),
                    "Fri, 04 Dec 2026 20:00:00 GMT".into(),
                ),
                ("ETag".into(), "\"e1\"".into()),
            ],
            body: body.into(),
        };
        match r.method.as_str() {
            "GET" | "HEAD" => ok("TRUE"),
            "PUT" if r.header("if-none-match").is_some() => ok(""),
            _ => s3_access_denied(),
        }
    });
    edit_workflow(&world, |w| {
        w["DataStores"]["Store"]["Endpoint"] = json!(store)
    });
    let out = timed(&mut world.action(&poll_overwritten("marker-denied")));
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("s3:PutObject") && all.contains("faasr-vm-poll-train.done"),
        "{all}"
    );
    assert_eq!(world.vm_state(), "running", "the poll had started the VM");
    assert!(
        world.dispatches().is_empty(),
        "no dispatch without the marker"
    );
    assert_teardown_rendered(&world, "faasr-vm-poll-train");
}
