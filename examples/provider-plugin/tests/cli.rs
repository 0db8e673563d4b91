//! `ephflow-with-example`: the ephflow command line with the `Example` provider linked. The
//! plain `ephflow` binary rejects the same workflow (tests/examples.rs at the repository root).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ephflow-with-example"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn workflow() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("workflow.json")
}

#[test]
fn the_schema_describes_the_example_provider() {
    let out = cli(&["schema"]);
    assert!(out.status.success());
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let vm = &schema["$defs"]["VMConfig"];
    let kinds = vm["properties"]["Provider"]["enum"].as_array().unwrap();
    assert!(kinds.contains(&"Example".into()), "{kinds:?}");
    assert!(
        kinds.contains(&"AWS".into()),
        "the shipped providers stay: {kinds:?}"
    );
    let fields = schema["$defs"]["ExampleVmConfig"]["properties"]
        .as_object()
        .unwrap();
    let names: Vec<&str> = fields.keys().map(String::as_str).collect();
    assert_eq!(names, ["InstanceId", "BootDescribes", "StateFile"]);
    assert!(
        fields.values().all(|f| f["description"].is_string()),
        "every field is described for editors"
    );
    let clause = vm["allOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["if"]["properties"]["Provider"]["const"] == "Example")
        .expect("an if Provider == Example clause");
    assert_eq!(clause["then"]["$ref"], "#/$defs/ExampleVmConfig");
}

#[test]
fn validate_accepts_an_example_workflow() {
    let out = cli(&["validate", "--deny-warnings", workflow().to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}{}",
        stdout(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout(&out).contains("valid (3 actions, 1 requiring the VM"));
}

#[test]
fn validate_checks_the_example_fields() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(workflow()).unwrap()).unwrap();
    doc["VMConfig"]["InstanceId"] = "Toy_1".into();
    let path = dir.path().join("bad.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let out = cli(&["validate", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("/VMConfig/InstanceId"), "{text}");
}

/// `vm` commands drive the toy VM; with a `StateFile` separate commands see one VM, each
/// status check moving a transition one step.
#[test]
fn vm_commands_share_the_vm_through_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(workflow()).unwrap()).unwrap();
    doc["VMConfig"]["BootDescribes"] = 1.into();
    doc["VMConfig"]["StateFile"] = dir.path().join("vm.json").to_str().unwrap().into();
    let path = dir.path().join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    let path = path.to_str().unwrap();

    let state = |args: &[&str]| -> (Value, String) {
        let mut full = vec!["vm"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--workflow", path, "--format", "json"]);
        let out = cli(&full);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        let s = v["status"]["state"].as_str().unwrap().to_owned();
        (v, s)
    };
    let (started, _) = state(&["start"]);
    assert_eq!(started["requested"], true);
    assert_eq!(state(&["status"]).1, "pending");
    assert_eq!(state(&["poll"]).1, "running");
    let (stopped, _) = state(&["stop"]);
    assert_eq!(stopped["requested"], true);
    assert_eq!(state(&["status"]).1, "stopping");
    assert_eq!(state(&["status"]).1, "stopped");
}

/// The schema printed by a binary with the plugin is what editors need for its workflows: a
/// standard validator accepts the example workflow with it, and rejects it with the committed
/// schema, which knows only the shipped providers.
#[test]
fn the_composed_draft_07_schema_accepts_the_workflow_for_a_standard_validator() {
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_jsonschema {
        ephflow_core::testkit::missing("python3 with the jsonschema package");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let composed = dir.path().join("with-example.schema.json");
    let out = cli(&[
        "schema",
        "--draft",
        "07",
        "--output",
        composed.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let errors = |schema: &Path| -> Vec<Value> {
        let out = Command::new("python3")
            .arg(root.join("tests/python/validate.py"))
            .arg(schema)
            .arg(workflow())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        result[workflow().to_str().unwrap()]
            .as_array()
            .unwrap()
            .clone()
    };
    assert_eq!(errors(&composed), Vec::<Value>::new());
    let committed = errors(&root.join("schema/ephflow.draft-07.schema.json"));
    assert!(
        committed
            .iter()
            .any(|e| e.as_str().unwrap().starts_with("VMConfig/Provider")),
        "{committed:?}"
    );
}
