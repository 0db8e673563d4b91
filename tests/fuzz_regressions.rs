//! Inputs the fuzzer found (fuzz/): each once produced a wrong report; now each is refused
//! with a pointer that exists in the document.

mod support;

use serde_json::{Value, json};
use support::world::ephflow;

fn report(doc: &Value) -> (Option<i32>, Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    let out = ephflow()
        .args(["validate", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

fn example() -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(support::root().join("examples/workflows/simple.json")).unwrap(),
    )
    .unwrap()
}

/// Exit 1, and every diagnostic's pointer resolves in the document.
fn refused_with_real_pointers(doc: &Value) {
    let (code, v) = report(doc);
    assert_eq!(code, Some(1), "{v}");
    let diagnostics = v["files"][0]["diagnostics"].as_array().unwrap();
    assert!(!diagnostics.is_empty());
    for d in diagnostics {
        let pointer = d["pointer"].as_str().unwrap();
        assert!(
            doc.pointer(pointer).is_some(),
            "{pointer} is not in the document: {d}"
        );
    }
}

#[test]
fn an_array_where_an_action_belongs_is_refused_at_the_action() {
    let mut doc = example();
    let first = first_action(&doc);
    doc["ActionList"][&first] = json!(["two(4)", "two"]);
    refused_with_real_pointers(&doc);
}

#[test]
fn a_nested_array_in_invoke_next_is_not_read_as_a_conditional() {
    let mut doc = example();
    let first = first_action(&doc);
    doc["ActionList"][&first]["InvokeNext"] = json!([["x"]]);
    refused_with_real_pointers(&doc);
}

#[test]
fn an_empty_invoke_next_object_is_an_error_not_just_a_warning() {
    let mut doc = example();
    let first = first_action(&doc);
    doc["ActionList"][&first]["InvokeNext"] = json!({});
    refused_with_real_pointers(&doc);
}

/// The name of the workflow's first action.
fn first_action(doc: &Value) -> String {
    doc["ActionList"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone()
}
