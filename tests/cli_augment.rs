//! `ephflow augment` from the command line: where it writes, what it refuses, what it says.

mod support;

use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn ephflow() -> Command {
    Command::cargo_bin("ephflow").unwrap()
}

/// Copies a fixture into a fresh directory.
fn staged(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = support::root()
        .join("tests/fixtures/augment")
        .join(format!("{name}.json"));
    let dst = dir.path().join(format!("{name}.json"));
    std::fs::copy(src, &dst).unwrap();
    (dir, dst)
}

fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn writes_beside_the_input_and_summarises() {
    let (dir, input) = staged("exclusive-leaves");
    let before = std::fs::read(&input).unwrap();
    ephflow()
        .arg("augment")
        .arg(&input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "parallel strategy: added 4 actions (faasr-vm-start, 1 poll, 2 stops: faasr-vm-stop, faasr-vm-stop-2)",
        ))
        .stdout(predicate::str::contains("1 VM action gated: heavy"));
    assert_eq!(std::fs::read(&input).unwrap(), before, "input touched");
    assert_eq!(
        files(dir.path()),
        ["exclusive-leaves.json", "exclusive-leaves_augmented.json"]
    );
    let out: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("exclusive-leaves_augmented.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(out["FunctionInvoke"], "faasr-vm-start");
}

#[test]
fn output_flag_and_strategy() {
    let (dir, input) = staged("vm-entry");
    let out = dir.path().join("nested-name.json");
    ephflow()
        .args(["augment", "--strategy", "sequential", "--output"])
        .arg(&out)
        .arg(&input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("sequential strategy"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(
        v["ActionList"]["faasr-vm-start"]["InvokeNext"][0],
        "faasr-vm-poll"
    );
}

#[test]
fn never_writes_over_its_input() {
    let (dir, input) = staged("vm-entry");
    let before = std::fs::read(&input).unwrap();
    ephflow()
        .arg("augment")
        .arg(&input)
        .arg("--output")
        .arg(&input)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("it is an input file"));
    assert_eq!(std::fs::read(&input).unwrap(), before);
    assert_eq!(files(dir.path()), ["vm-entry.json"]);
}

/// Output paths that cannot be written say why in terms of the output (no temporary file's
/// name), exit 5 and leave nothing behind; standard input needs --output (there is no file to
/// write beside), exit 2.
#[test]
fn unwritable_outputs_and_standard_input_are_explained() {
    let (dir, input) = staged("vm-entry");
    let missing = dir.path().join("nodir").join("out.json");
    ephflow()
        .arg("augment")
        .arg(&input)
        .arg("-o")
        .arg(&missing)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("nodir does not exist"))
        .stderr(predicate::str::contains(".ephflow-").not());
    let sub = dir.path().join("sub");
    std::fs::create_dir(&sub).unwrap();
    ephflow()
        .arg("augment")
        .arg(&input)
        .arg("-o")
        .arg(&sub)
        .assert()
        .code(5)
        .stderr(predicate::str::contains("is a directory"));
    assert_eq!(files(dir.path()), ["sub", "vm-entry.json"]);
    assert!(files(&sub).is_empty());

    let text = std::fs::read(&input).unwrap();
    ephflow()
        .current_dir(dir.path())
        .args(["augment", "-"])
        .write_stdin(text.clone())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("pass --output PATH"));
    assert_eq!(files(dir.path()), ["sub", "vm-entry.json"]);
    ephflow()
        .current_dir(dir.path())
        .args(["augment", "-", "-o", "from-stdin.json"])
        .write_stdin(text)
        .assert()
        .code(0);
    assert!(dir.path().join("from-stdin.json").is_file());
}

/// A written file gets the mode any new file gets (0666 less the umask), not the
/// temporary file's 0600: it is committed and read by others.
#[cfg(unix)]
#[test]
fn written_files_are_not_private() {
    use std::os::unix::fs::PermissionsExt;
    let (dir, input) = staged("vm-entry");
    let plain = dir.path().join("plain");
    std::fs::File::create(&plain).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let out = dir.path().join("out.json");
    ephflow()
        .arg("augment")
        .arg(&input)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(0);
    assert_eq!(mode(&out), mode(&plain));
}

#[test]
fn invalid_input_writes_nothing() {
    let (dir, input) = staged("vm-entry");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    v["ActionList"]["crunch"]["FaaSServer"] = "Lambda-box".into();
    std::fs::write(&input, v.to_string()).unwrap();
    ephflow()
        .arg("augment")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("error[unknown-server]"))
        .stderr(predicate::str::contains("nothing written"));
    assert_eq!(files(dir.path()), ["vm-entry.json"]);
}

#[test]
fn refuses_an_augmented_workflow() {
    let (dir, input) = staged("vm-entry");
    ephflow().arg("augment").arg(&input).assert().code(0);
    let augmented = dir.path().join("vm-entry_augmented.json");
    ephflow()
        .arg("augment")
        .arg(&augmented)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("already augmented"))
        .stderr(predicate::str::contains("faasr-vm-start"));
    assert!(
        !dir.path()
            .join("vm-entry_augmented_augmented.json")
            .exists()
    );
}

#[test]
fn a_workflow_without_vm_actions_is_written_unchanged() {
    let (dir, input) = staged("no-vm");
    ephflow()
        .arg("augment")
        .arg(&input)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "no action requires the VM: wrote the workflow, its content unchanged,",
        ));
    let a: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let b: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("no-vm_augmented.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(a, b);
}

#[test]
fn needs_an_image_for_the_lifecycle_actions() {
    let (dir, input) = staged("vm-entry");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    v.as_object_mut().unwrap().shift_remove("ActionContainers");
    std::fs::write(&input, v.to_string()).unwrap();
    ephflow()
        .arg("augment")
        .arg(&input)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("--builtin-image"))
        .stderr(predicate::str::contains("server \"GH\""));
    assert_eq!(files(dir.path()), ["vm-entry.json"]);
    ephflow()
        .args(["augment", "--builtin-image", "ghcr.io/example/lifecycle:1"])
        .arg(&input)
        .assert()
        .code(0);
    let out: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("vm-entry_augmented.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(
        out["ActionContainers"]["faasr-vm-start"],
        "ghcr.io/example/lifecycle:1"
    );
    assert!(out["ActionContainers"].get("crunch").is_none());
}

#[test]
fn warns_about_executions_without_a_clean_stop() {
    let (_dir, input) = staged("optional-side-branch");
    ephflow()
        .arg("augment")
        .arg(&input)
        .assert()
        .code(0)
        .stderr(predicate::str::contains("warning[no-clean-stop]"))
        .stderr(predicate::str::contains("\"route\" returns False"));
}

#[test]
fn augment_has_help() {
    ephflow()
        .args(["augment", "--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("--strategy"))
        .stdout(predicate::str::contains("--builtin-image"));
}
