//! `ephflow graph`: pictures of original and augmented workflows.

mod support;

use assert_cmd::Command;
use predicates::prelude::*;

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

#[test]
fn draws_an_augmented_workflow_in_mermaid_and_dot() {
    let dir = tempfile::tempdir().unwrap();
    let augmented = dir.path().join("aug.json");
    ephflow()
        .arg("augment")
        .arg(support::root().join("examples/ml-pipeline.json"))
        .arg("-o")
        .arg(&augmented)
        .assert()
        .code(0);
    ephflow()
        .arg("graph")
        .arg(&augmented)
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("flowchart TD\n"))
        .stdout(predicate::str::contains(
            "[\"train-model<br/><small>GH · VM</small>\"]:::vm",
        ))
        .stdout(predicate::str::contains(
            "([\"faasr-vm-stop-2<br/><small>GH</small>\"]):::lifecycle",
        ))
        .stdout(predicate::str::contains("-- \"×4\" -->"))
        .stdout(predicate::str::contains("-- \"False\" -->"));
    let out = dir.path().join("aug.dot");
    ephflow()
        .args(["graph", "--format", "dot", "--output"])
        .arg(&out)
        .arg(&augmented)
        .assert()
        .code(0)
        .stdout(predicate::str::is_empty());
    let dot = std::fs::read_to_string(out).unwrap();
    assert!(dot.starts_with("digraph \"ml-pipeline\" {"));
    assert!(dot.contains("\"faasr-vm-start\" [label=\"faasr-vm-start\\nGH\", shape=ellipse"));
    assert!(dot.contains("\"evaluate\" -> \"publish-model\" [label=\"True\"];"));
}

#[test]
fn refuses_an_invalid_workflow() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.json");
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/ml-pipeline.json")).unwrap(),
    )
    .unwrap();
    v["FunctionInvoke"] = "nowhere".into();
    std::fs::write(&path, v.to_string()).unwrap();
    ephflow()
        .arg("graph")
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("error[unknown-entry]"));
}
