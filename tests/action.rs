//! `ephflow action run` end to end: the injected lifecycle actions run natively against a moto
//! server (EC2 and S3) and the fake GitHub API, from PAYLOAD_URL + OVERWRITTEN to the next
//! dispatch; fan-in elects exactly one of five concurrent invocations.

mod support;

use std::process::Output;

use ephflow_core::action::CompletionStore;
use serde_json::{Value, json};
use support::world::*;

#[test]
fn the_lifecycle_runs_natively_from_payload_to_next_dispatch() {
    let Some(world) = World::start() else { return };
    let store = world.store();

    // vm_start is the entry: it creates the invocation, starts the VM, writes its marker and
    // dispatches "prepare" with the invocation in OVERWRITTEN.
    let out = world.run(&json!({"FunctionInvoke": "faasr-vm-start"}));
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("created here"), "{}", text(&out));
    assert_ne!(world.vm_state(), "stopped");
    let sent = world.dispatches();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (file, overwritten, url) = &sent[0];
    assert_eq!(file, "fan-in-prepare.yml");
    assert_eq!(url, PAYLOAD_URL);
    let id = overwritten["InvocationID"].as_str().unwrap().to_owned();
    let ts = overwritten["InvocationTimestamp"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(overwritten["FunctionInvoke"], "prepare");
    assert!(uuid_v4(&id), "InvocationID {id} is a UUID v4");
    assert!(
        timestamp(&ts),
        "InvocationTimestamp {ts} is %Y-%m-%dT%H-%M-%S"
    );
    assert_eq!(overwritten.as_object().unwrap().len(), 3, "{overwritten}");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-start"))).unwrap());

    // The poll has three predecessors (shard ranks 1..3): with two markers it waits quietly.
    let run_poll = || {
        world.run(
            &json!({"FunctionInvoke": "faasr-vm-poll-train", "InvocationID": id,
                          "InvocationTimestamp": ts, "FaaSrLog": "FaaSrLog"}),
        )
    };
    for rank in 1..=2 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    let out = run_poll();
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("shard.3.done is missing"),
        "{}",
        text(&out)
    );
    assert_eq!(
        world.dispatches().len(),
        1,
        "nothing dispatched while waiting"
    );
    let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.3.done");
    block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    // Now it waits for the VM and its runner, then starts "train" on the VM.
    let out = run_poll();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(world.vm_state(), "running");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-poll-train"))).unwrap());
    let sent = world.dispatches();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[1].0, "fan-in-train.yml");
    assert_eq!(
        sent[1].1,
        json!({"FunctionInvoke": "train", "InvocationID": id, "InvocationTimestamp": ts, "FaaSrLog": "FaaSrLog"})
    );
    let runner_checks = world
        .gh
        .seen()
        .iter()
        .filter(|s| s.path.contains("/actions/runners"))
        .count();
    assert!(runner_checks >= 1, "the poll checked the runner");

    // The stop has five predecessors (score ranks 1..5). Five invocations at once, after
    // every marker is there: exactly one stops the VM, writes the marker, and the other four
    // leave quietly.
    for rank in 1..=5 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/score.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    let stop =
        json!({"FunctionInvoke": "faasr-vm-stop", "InvocationID": id, "InvocationTimestamp": ts});
    let children: Vec<_> = (0..5)
        .map(|_| {
            world
                .action(&stop)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", text(out));
        no_secrets(out);
    }
    let winners = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("faasr-vm-stop: done"))
        .count();
    let losers = outputs
        .iter()
        .filter(|o| String::from_utf8_lossy(&o.stdout).contains("another invocation"))
        .count();
    assert_eq!((winners, losers), (1, 4), "exactly one proceeds");
    assert!(block_on(store.exists(&marker(&id, &ts, "faasr-vm-stop"))).unwrap());
    let state = world.vm_state();
    assert!(state == "stopping" || state == "stopped", "VM {state}");
    assert_eq!(world.dispatches().len(), 2, "the stop starts nothing");
    drop(world.dir);
}

#[test]
fn refuses_user_actions_bad_inputs_and_secrets_in_overwritten() {
    let Some(world) = World::start() else { return };
    let cases: Vec<(Option<&str>, Value, &str)> = vec![
        (
            None,
            json!({"FunctionInvoke": "train"}),
            "is not a lifecycle action",
        ),
        (
            None,
            json!({"FunctionInvoke": "nope"}),
            "\"nope\" is not an action",
        ),
        (
            None,
            json!({"FunctionInvoke": "faasr-vm-stop"}),
            "no InvocationID",
        ),
        (
            Some("test-org/fan-in-actions/main"),
            json!({}),
            "<owner>/<repo>/<branch>/<path",
        ),
        (
            Some("test-org/fan-in-actions/main/missing.json"),
            json!({"FunctionInvoke": "faasr-vm-start"}),
            "missing.json is not on test-org/fan-in-actions@main",
        ),
        (
            None,
            json!({"FunctionInvoke": "faasr-vm-start", "Note": STORE_SECRET}),
            "would carry the value of the secret Store_SecretKey",
        ),
    ];
    for (url, overwritten, expected) in cases {
        let mut cmd = world.action(&overwritten);
        if let Some(url) = url {
            cmd.env("PAYLOAD_URL", url);
        }
        let out = cmd.output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{overwritten}: {}", text(&out));
        assert!(
            text(&out).contains(expected),
            "{overwritten}: {}",
            text(&out)
        );
        no_secrets(&out);
    }
    assert!(world.dispatches().is_empty(), "nothing dispatched");
    let mut cmd = world.action(&json!({}));
    cmd.env("OVERWRITTEN", "not json");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("OVERWRITTEN is not JSON"),
        "{}",
        text(&out)
    );
}

fn uuid_v4(id: &str) -> bool {
    let parts: Vec<&str> = id.split('-').collect();
    parts.iter().map(|p| p.len()).collect::<Vec<_>>() == [8, 4, 4, 4, 12]
        && parts[2].starts_with('4')
        && id.chars().all(|c| c == '-' || c.is_ascii_hexdigit())
}

fn timestamp(ts: &str) -> bool {
    ts.len() == 19
        && ts.chars().enumerate().all(|(i, c)| match i {
            4 | 7 | 13 | 16 => c == '-',
            10 => c == 'T',
            _ => c.is_ascii_digit(),
        })
}

/// The poll heals: when the VM was stopped after vm_start (reaped, or stopped by another
/// invocation), the poll starts it again before waiting.
#[test]
fn the_poll_starts_a_stopped_vm_again() {
    let Some(world) = World::start() else { return };
    let store = world.store();
    let (id, ts) = ("heal-1", "2026-12-04T19-00-00");
    for rank in 1..=3 {
        let key = format!("FaaSrLog/fan-in/{ts}/{id}/function_completions/shard.{rank}.done");
        block_on(store.put(&key, b"TRUE".to_vec())).unwrap();
    }
    assert_eq!(world.vm_state(), "stopped");
    let out = world.run(
        &json!({"FunctionInvoke": "faasr-vm-poll-train", "InvocationID": id,
                                "InvocationTimestamp": ts}),
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("done (VM running, request sent)"),
        "{}",
        text(&out)
    );
    assert_eq!(world.vm_state(), "running");
    assert_eq!(world.dispatches().len(), 1, "then it starts the VM action");
}
