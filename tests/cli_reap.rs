//! `ephflow vm reap` against moto and the fake GitHub API: busy VMs are never stopped, idle
//! and over-age ones are, and a second run has nothing to do.

mod support;

use ephflow_github::testkit::FakeGitHub;
use serde_json::Value;
use support::world::*;

fn reap(world: &World, gh: &FakeGitHub, args: &[&str]) -> (Option<i32>, String) {
    let out = ephflow()
        .args(["vm", "reap", "--workflow"])
        .arg(&world.workflow)
        .args(args)
        .env("GITHUB_API_URL", &gh.url)
        .env("GH_PAT", GH_TOKEN)
        .env("AWS_ENDPOINT_URL_EC2", &world.moto.url)
        .env("VM_AccessKey", VM_ACCESS)
        .env("VM_SecretKey", VM_SECRET)
        .env("EPHFLOW_LOG", "debug")
        .env_remove("GITHUB_TOKEN")
        .env_remove("PAYLOAD_URL")
        .output()
        .unwrap();
    no_secrets(&out);
    (out.status.code(), text(&out))
}

#[test]
fn reaps_only_what_nothing_uses() {
    let Some(world) = World::start() else { return };
    let gh = &world.gh;
    let (code, out) = reap(&world, gh, &["--idle", "0s"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("nothing to do: the VM is stopped"), "{out}");

    world.start_vm();
    // Busy runner: never stopped, not even past the max lifetime.
    gh.set_runner("vm-runner-1", "online", true);
    let (code, out) = reap(&world, gh, &["--idle", "0s", "--max-lifetime", "0s"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("in use, left running: its runner is running a job"),
        "{out}"
    );
    // Idle, but not for long enough.
    gh.set_runner("vm-runner-1", "online", false);
    let (_, out) = reap(&world, gh, &["--idle", "1h"]);
    assert!(out.contains("left running: idle for"), "{out}");
    assert!(out.contains("of 1h00m allowed"), "{out}");
    // A dry run says what it would do.
    let (_, out) = reap(
        &world,
        gh,
        &["--idle", "0s", "--dry-run", "--format", "json"],
    );
    let line = out.lines().find(|l| l.starts_with('{')).unwrap();
    let v: Value = serde_json::from_str(line).unwrap();
    assert_eq!(
        (v["verdict"].as_str(), v["stopped"].as_bool()),
        (Some("stop"), Some(false))
    );
    assert_eq!(world.vm_state(), "running");
    // A queued VM job (here: the poll) keeps it, whatever the limits.
    gh.add_run(
        "fan-in-faasr-vm-poll-train.yml",
        "queued",
        "2026-12-04T10:00:00Z",
    );
    let (_, out) = reap(&world, gh, &["--idle", "0s", "--max-lifetime", "0s"]);
    assert!(
        out.contains("VM jobs are queued or running (fan-in-faasr-vm-poll-train.yml)"),
        "{out}"
    );
    assert_eq!(world.vm_state(), "running");

    // A repository whose VM jobs all finished: idle → stopped, then nothing to do.
    let quiet = FakeGitHub::start();
    quiet.set_runner("vm-runner-1", "online", false);
    quiet.add_run("fan-in-train.yml", "completed", "2020-01-01T00:00:00Z");
    let (code, out) = reap(&world, &quiet, &["--idle", "0s"]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("stopped: idle for"), "{out}");
    let state = world.vm_state();
    assert!(state == "stopped" || state == "stopping", "{state}");
    let (_, out) = reap(&world, &quiet, &["--idle", "0s"]);
    assert!(out.contains("nothing to do"), "{out}");

    // Over the max lifetime with a dead runner: stopped.
    world.start_vm();
    quiet.set_runner("vm-runner-1", "offline", false);
    let (_, out) = reap(&world, &quiet, &["--max-lifetime", "0s"]);
    assert!(out.contains("stopped: it has run"), "{out}");
    assert!(out.contains("MaxLifetime 0s"), "{out}");
}

#[test]
fn without_a_token_it_refuses_rather_than_guess() {
    let Some(world) = World::start() else { return };
    let without_token = |args: &[&str]| {
        ephflow()
            .args(["vm", "reap"])
            .args(args)
            .arg("--workflow")
            .arg(&world.workflow)
            .env("GITHUB_API_URL", &world.gh.url)
            .env("AWS_ENDPOINT_URL_EC2", &world.moto.url)
            .env("VM_AccessKey", VM_ACCESS)
            .env("VM_SecretKey", VM_SECRET)
            .env_remove("GH_PAT")
            .env_remove("GITHUB_TOKEN")
            .output()
            .unwrap()
    };
    let out = without_token(&["--idle", "0s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("cannot tell whether the VM is in use"),
        "{}",
        text(&out)
    );
    assert!(text(&out).contains("GH_PAT"), "{}", text(&out));

    // --format json says so on standard output too, as one object.
    let out = without_token(&["--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(report["ok"], false);
    assert_eq!(report["exit"], 1);
    assert_eq!(report["action"], "reap");
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot tell whether the VM is in use")),
        "{report}"
    );
}

#[test]
fn reads_the_workflow_from_the_repository() {
    let Some(world) = World::start() else { return };
    let out = ephflow()
        .args(["vm", "reap", "--dry-run", "--payload-url", PAYLOAD_URL])
        .env("GITHUB_API_URL", &world.gh.url)
        .env("GH_PAT", GH_TOKEN)
        .env("AWS_ENDPOINT_URL_EC2", &world.moto.url)
        .env("VM_AccessKey", VM_ACCESS)
        .env("VM_SecretKey", VM_SECRET)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("nothing to do: the VM is stopped"),
        "{}",
        text(&out)
    );
}
