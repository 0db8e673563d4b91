//! The Command provider through the binary: `validate` checks VMConfig.Commands, `vm` drives a
//! VM simulated by a shell script, `register` renders its Stop command through `env:`.

mod support;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};

const SECRET: &str = "cmd-provider-never-print-this-secret";

/// The simulated VM (state in `<dir>/<EPHFLOW_VM_ID>.state`): start → pending (running after
/// the next describe), stop → stopping (stopped after the next describe).
const VM_SCRIPT: &str = r#"#!/bin/sh
f="$(dirname "$0")/$EPHFLOW_VM_ID.state"
[ -f "$f" ] || { echo "no such VM: $EPHFLOW_VM_ID" >&2; exit 3; }
state=$(cat "$f")
case "$EPHFLOW_ACTION" in
  start) echo pending > "$f" ;;
  stop) echo stopping > "$f" ;;
  *)
    case "$state" in pending) echo running > "$f" ;; stopping) echo stopped > "$f" ;; esac
    printf '{"state": "%s"}\n' "$state" ;;
esac
"#;

/// The bundled example with a Command VMConfig whose commands are `commands`.
fn workflow(dir: &Path, file: &str, commands: Value) -> PathBuf {
    let mut doc: Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    doc.as_object_mut().unwrap().remove("$schema");
    doc["VMConfig"] = json!({"Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1",
        "Region": "local", "Commands": commands});
    let path = dir.join(file);
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    path
}

fn script_commands(dir: &Path) -> Value {
    let script = dir.join("vm.sh");
    std::fs::write(&script, VM_SCRIPT).unwrap();
    let run = format!("sh '{}'", script.display());
    json!({"Start": run, "Stop": run, "Describe": run, "TimeoutSeconds": 10})
}

fn ephflow() -> Command {
    let mut cmd = Command::cargo_bin("ephflow").unwrap();
    cmd.env("LABVM_SecretKey", SECRET)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("GH_PAT")
        .env_remove("GITHUB_TOKEN");
    cmd
}

fn text(out: &std::process::Output) -> String {
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(SECRET), "a secret leaked: {all}");
    all
}

#[test]
fn validate_accepts_a_command_workflow_and_names_a_missing_stop() {
    let dir = tempfile::tempdir().unwrap();
    let good = workflow(
        dir.path(),
        "good.json",
        json!({"Start": "virsh start lab-vm-1", "Stop": "virsh shutdown lab-vm-1",
               "Describe": "./describe-vm.sh lab-vm-1", "TimeoutSeconds": 60}),
    );
    let out = ephflow().arg("validate").arg(&good).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let bad = workflow(
        dir.path(),
        "no-stop.json",
        json!({"Start": "virsh start lab-vm-1", "Describe": "./describe-vm.sh",
               "TimeoutSeconds": 0}),
    );
    let out = ephflow()
        .args(["validate", "--format", "json"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let diagnostics = report["files"][0]["diagnostics"].as_array().unwrap();
    let missing = diagnostics
        .iter()
        .find(|d| d["code"] == "missing-field")
        .unwrap_or_else(|| panic!("{diagnostics:#?}"));
    assert_eq!(missing["pointer"], "/VMConfig/Commands");
    assert!(
        missing["message"].as_str().unwrap().contains("\"Stop\""),
        "{missing}"
    );
    assert!(
        diagnostics
            .iter()
            .any(|d| d["pointer"] == "/VMConfig/Commands/TimeoutSeconds"),
        "{diagnostics:#?}"
    );
    let out = ephflow().arg("validate").arg(&bad).output().unwrap();
    let shown = text(&out);
    assert!(
        shown.contains("/VMConfig/Commands") && shown.contains("\"Stop\" is missing"),
        "{shown}"
    );

    // The committed schema agrees (Python's jsonschema).
    if support::python_jsonschema() {
        let out = std::process::Command::new("python3")
            .arg(support::root().join("tests/python/validate.py"))
            .arg(support::root().join("schema/ephflow.schema.json"))
            .arg(&good)
            .arg(&bad)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(result[good.to_str().unwrap()], json!([]));
        assert!(!result[bad.to_str().unwrap()].as_array().unwrap().is_empty());
    }
}

fn vm_json(args: &[&str], wf: &Path) -> Value {
    let out = ephflow()
        .arg("vm")
        .args(args)
        .arg("--workflow")
        .arg(wf)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {shown}");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {shown}"))
}

#[test]
fn vm_commands_drive_a_script_vm() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("lab-vm-1.state"), "stopped\n").unwrap();
    let wf = workflow(dir.path(), "lab.json", script_commands(dir.path()));
    let state = |v: &Value| v["status"]["state"].as_str().unwrap().to_owned();

    assert_eq!(state(&vm_json(&["status"], &wf)), "stopped");
    let out = ephflow()
        .args(["vm", "preflight", "--workflow"])
        .arg(&wf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let started = vm_json(&["start"], &wf);
    assert_eq!(started["requested"], true, "{started}");
    assert_eq!(state(&vm_json(&["status"], &wf)), "pending");
    assert_eq!(state(&vm_json(&["status"], &wf)), "running");
    let again = vm_json(&["start"], &wf);
    assert_eq!(again["requested"], false, "{again}");

    let stopped = vm_json(&["stop"], &wf);
    assert_eq!(stopped["requested"], true, "{stopped}");
    assert_eq!(state(&vm_json(&["status"], &wf)), "stopping");
    assert_eq!(state(&vm_json(&["status"], &wf)), "stopped");
    let again = vm_json(&["stop"], &wf);
    assert_eq!(again["requested"], false, "{again}");
}

#[test]
fn vm_failures_are_classified_and_leak_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let mut commands = script_commands(dir.path());
    // No state file: the VM does not exist (exit 3).
    let wf = workflow(dir.path(), "missing.json", commands.clone());
    let out = ephflow()
        .args(["vm", "status", "--workflow"])
        .arg(&wf)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("Commands.Describe for lab-vm-1 exited with code 3"));

    std::fs::write(dir.path().join("lab-vm-1.state"), "stopped\n").unwrap();
    commands["Start"] = json!("echo \"denied for key $LABVM_SecretKey\" >&2; exit 77");
    let wf = workflow(dir.path(), "denied.json", commands.clone());
    let out = ephflow()
        .args(["vm", "start", "--workflow"])
        .arg(&wf)
        .output()
        .unwrap();
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(3), "{shown}");
    assert!(
        shown.contains("Commands.Start for lab-vm-1 exited with code 77"),
        "{shown}"
    );
    assert!(shown.contains("denied for key [redacted]"), "{shown}");
}

#[test]
fn register_renders_stop_through_env() {
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow(
        dir.path(),
        "lab.json",
        json!({"Start": "gcloud compute instances start \"$EPHFLOW_VM_ID\"",
               "Stop": "gcloud compute instances stop \"$EPHFLOW_VM_ID\" --zone \"$EPHFLOW_REGION\"",
               "Describe": "./describe.sh"}),
    );
    let augmented = dir.path().join("lab_augmented.json");
    let out = ephflow()
        .arg("augment")
        .arg(&wf)
        .arg("-o")
        .arg(&augmented)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out_dir = dir.path().join("workflows");
    let out = ephflow()
        .arg("register")
        .arg(&augmented)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let yaml = std::fs::read_to_string(out_dir.join("ml-pipeline-train-model.yml")).unwrap();
    let doc: Value = serde_saphyr::from_str(&yaml).unwrap();
    let step = &doc["jobs"]["stop_vm_on_failure"]["steps"][0];
    assert_eq!(step["run"], ephflow::command::CI_STOP_RUN, "{yaml}");
    assert_eq!(
        step["env"]["EPHFLOW_STOP_COMMAND"],
        "gcloud compute instances stop \"$EPHFLOW_VM_ID\" --zone \"$EPHFLOW_REGION\""
    );
    assert_eq!(step["env"]["EPHFLOW_VM_ID"], "lab-vm-1");
    assert_eq!(
        step["env"]["LABVM_SecretKey"],
        "${{ secrets.LABVM_SecretKey }}"
    );
}
