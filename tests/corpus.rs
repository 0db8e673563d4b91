//! The real FaaSr workflows of the shared corpus: validation verdicts and lossless round trips.

mod support;

use ephflow::core::validate::validate_document;
use ephflow::schema::Document;
use serde_json::Value;

fn load(path: &std::path::Path) -> (String, Document) {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = Document::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    (text, doc)
}

#[test]
fn accepts_every_corpus_workflow_but_the_two_vm_misuses() {
    support::link_plugins();
    let files = support::corpus_workflows();
    if files.is_empty() {
        return;
    }
    assert!(
        files.len() >= 26,
        "the corpus shrank: {} files",
        files.len()
    );
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let (_, doc) = load(path);
        let report = validate_document(&doc).unwrap();
        match support::CORPUS_REJECTED.iter().find(|(f, _)| *f == name) {
            None => assert!(report.is_valid(), "{name}: {:#?}", report.diagnostics),
            Some((_, code)) => {
                assert!(!report.is_valid(), "{name} must be rejected");
                let hits: Vec<_> = report
                    .diagnostics
                    .iter()
                    .filter(|d| d.code == *code)
                    .collect();
                assert!(
                    !hits.is_empty(),
                    "{name}: no {code} in {:#?}",
                    report.diagnostics
                );
                for d in hits {
                    assert!(d.subject.starts_with("action \"forecast-HOx-"), "{d}");
                }
            }
        }
    }
}

/// Object keys in document order, recursively: the round trip must keep them exactly.
fn key_order(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                out.push(k.clone());
                key_order(c, out);
            }
            out.push("}".into());
        }
        Value::Array(a) => a.iter().for_each(|c| key_order(c, out)),
        _ => {}
    }
}

#[test]
fn documents_round_trip_losslessly() {
    for path in support::corpus_workflows() {
        let (_, doc) = load(&path);
        let written = doc.to_pretty_string();
        let again = Document::parse(&written).unwrap();
        assert_eq!(again.value(), doc.value(), "{}", path.display());
        let (mut a, mut b) = (Vec::new(), Vec::new());
        key_order(doc.value(), &mut a);
        key_order(again.value(), &mut b);
        assert_eq!(a, b, "{}: key order changed", path.display());
        assert_eq!(
            again.to_pretty_string(),
            written,
            "{}: output not stable",
            path.display()
        );
        assert!(written.contains("\n    \"") && written.ends_with("}\n"));
    }
}

/// The typed model holds every field of every corpus file: serializing it gives back the
/// same JSON (order aside, which the document keeps).
#[test]
fn the_typed_model_loses_nothing() {
    for path in support::corpus_workflows() {
        let (_, doc) = load(&path);
        let workflow = doc
            .workflow()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let back = serde_json::to_value(&workflow).unwrap();
        assert_eq!(&back, doc.value(), "{}", path.display());
    }
}

#[test]
fn unknown_keys_survive_at_every_level() {
    let text = r#"{
        "FunctionGitRepoBranch": "dev",
        "WorkflowName": "w", "FunctionInvoke": "a", "DefaultDataStore": "S3",
        "_workflow_file": "w.json",
        "ActionList": {"a": {"FunctionName": "f", "FaaSServer": "GH", "RequiresVM": true}},
        "ComputeServers": {"GH": {"FaaSType": "GitHubActions", "UserName": "u", "ActionRepoName": "r"}},
        "DataStores": {"S3": {"Bucket": "b"}},
        "VMConfig": {"Name": "VM", "Provider": "AWS", "Strategy": "simple_start_end",
                     "InstanceId": "i-0123456789abcdef0", "Region": "us-east-1", "Extra": {"x": [1, 2.5]}}
    }"#;
    let doc = Document::parse(text).unwrap();
    let w = doc.workflow().unwrap();
    assert_eq!(w.extra["FunctionGitRepoBranch"], "dev");
    assert_eq!(
        w.vm_config.as_ref().unwrap().extra["Strategy"],
        "simple_start_end"
    );
    assert_eq!(&serde_json::to_value(&w).unwrap(), doc.value());
    let again = Document::parse(&doc.to_pretty_string()).unwrap();
    assert_eq!(again.value()["VMConfig"]["Extra"]["x"][1], 2.5);
    let keys: Vec<&String> = again.value().as_object().unwrap().keys().collect();
    assert_eq!(keys[0], "FunctionGitRepoBranch");
    assert_eq!(keys[4], "_workflow_file");
}
