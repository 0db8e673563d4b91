//! Runs the embedding example on the example workflows and checks what it reports: the
//! lifecycle actions ephflow injected drive the VM at the right moments.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ephflow-example-embedding"))
        .args(args)
        .output()
        .unwrap()
}

fn workflow(name: &str) -> String {
    format!("{}/../workflows/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// The lines of standard output that are not progress (phase) lines.
fn steps(out: &Output) -> Vec<String> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("  "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_bundled_ranked_workflow_runs_every_rank_on_a_ready_vm() {
    let steps = steps(&run(&[]));
    assert_eq!(
        steps,
        [
            "validated hyperparameter-sweep: 4 actions, 1 on the VM (Provider \"AWS\", driven by this orchestrator's own provider)",
            "augmented: entry faasr-vm-start, added faasr-vm-start, faasr-vm-stop, faasr-vm-poll-train",
            "faasr-vm-start (vm_start): VM start requested",
            "prepare-dataset: ran",
            "faasr-vm-poll-train (vm_poll): VM ready",
            "train(1/4): ran on the VM",
            "train(2/4): ran on the VM",
            "train(3/4): ran on the VM",
            "train(4/4): ran on the VM",
            "select-best: ran",
            "register-model: ran",
            "faasr-vm-stop (vm_stop): VM stop requested",
            "done: 1 start and 1 stop request(s); VM stopping",
        ]
    );
}

#[test]
fn each_conditional_outcome_ends_with_its_own_stop() {
    let path = workflow("conditional.json");
    let retrain = steps(&run(&[&path, "true"]));
    assert!(retrain.contains(&"recalibrate-model: ran on the VM".to_owned()));
    assert!(retrain.contains(&"faasr-vm-stop (vm_stop): VM stop requested".to_owned()));
    assert!(!retrain.iter().any(|l| l.starts_with("faasr-vm-stop-2")));

    // The VM is started at the entry even when no VM action runs; the other stop ends it,
    // waiting for the booting VM to run first (a pending VM cannot be stopped).
    let out = run(&[&path, "false"]);
    let routine = steps(&out);
    assert!(routine.contains(&"publish-forecast: ran".to_owned()));
    assert!(!routine.iter().any(|l| l.starts_with("recalibrate-model")));
    assert!(routine.contains(&"faasr-vm-stop-2 (vm_stop): VM stop requested".to_owned()));
    assert_eq!(
        routine.last().unwrap(),
        "done: 1 start and 1 stop request(s); VM stopping"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("phase waiting-to-stop (VM pending)"));
}

#[test]
fn an_invalid_workflow_is_refused_with_every_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("invalid.json");
    let text = std::fs::read_to_string(workflow("simple.json"))
        .unwrap()
        .replace(
            r#""FunctionInvoke": "prepare-inputs""#,
            r#""FunctionInvoke": "prepare""#,
        )
        .replace(r#"["summarize-results"]"#, r#"["summarise"]"#);
    std::fs::write(&path, text).unwrap();
    let out = run(&[path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("\"prepare\""), "{err}");
    assert!(err.contains("\"summarise\""), "{err}");
    assert!(err.contains("is not a valid workflow"), "{err}");
}
