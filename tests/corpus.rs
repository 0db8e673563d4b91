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

/// Whether a diagnostic blames a key for being misspelt.
fn suggests_a_misspelling(d: &ephflow::schema::Diagnostic) -> bool {
    let text = format!("{} {}", d.message, d.hint.as_deref().unwrap_or_default());
    d.code == "ignored-key"
        || text.contains("looks like a misspelling")
        || text.contains("the workflow has \"")
}

/// A misspelling suggestion never blames a key that is itself valid: no corpus workflow gets
/// one, and neither does any corpus object (the workflow, a compute server, a data store,
/// VMConfig, an action) with one of its keys removed, whose remaining keys are all spelt as
/// FaaSr and ephflow read them (or are unknown keys FaaSr tolerates, kept as written).
#[test]
fn valid_keys_are_never_called_misspellings() {
    support::link_plugins();
    // Only a missing key the validator reports can draw a suggestion: the keys some schema
    // node requires, and those the semantic rules miss.
    let schema =
        ephflow::core::validate::document_schema(ephflow::schema::Draft::Draft2020_12).unwrap();
    let mut may_be_missed =
        std::collections::BTreeSet::from(["VMConfig", "LoggingDataStore", "FaaSrLog"]);
    fn required<'a>(v: &'a Value, out: &mut std::collections::BTreeSet<&'a str>) {
        match v {
            Value::Object(m) => {
                if let Some(names) = m.get("required").and_then(Value::as_array) {
                    out.extend(names.iter().filter_map(Value::as_str));
                }
                m.values().for_each(|c| required(c, out));
            }
            Value::Array(a) => a.iter().for_each(|c| required(c, out)),
            _ => {}
        }
    }
    required(&schema, &mut may_be_missed);
    assert!(may_be_missed.contains("InstanceId") && may_be_missed.contains("UserName"));
    let mut removals = 0;
    for path in support::corpus_workflows() {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let (_, doc) = load(&path);
        let report = validate_document(&doc).unwrap();
        let blamed: Vec<_> = report
            .diagnostics
            .iter()
            .filter(|d| suggests_a_misspelling(d))
            .collect();
        assert!(blamed.is_empty(), "{name}: {blamed:#?}");

        let mut objects = vec![String::new(), "/VMConfig".to_owned()];
        // Every server and store; actions all have the same few keys, so two of each workflow.
        for (section, most) in [
            ("ComputeServers", usize::MAX),
            ("DataStores", usize::MAX),
            ("ActionList", 2),
        ] {
            for key in doc.value()[section]
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .take(most)
            {
                objects.push(ephflow::schema::pointer::from_tokens([section, key]));
            }
        }
        for object in objects {
            let Some(keys) = doc.value().pointer(&object).and_then(Value::as_object) else {
                continue;
            };
            for key in keys.keys().filter(|k| may_be_missed.contains(k.as_str())) {
                let mut value = doc.value().clone();
                value
                    .pointer_mut(&object)
                    .and_then(Value::as_object_mut)
                    .unwrap()
                    .shift_remove(key);
                let edited = Document::from_value(value).unwrap();
                let report = validate_document(&edited).unwrap();
                removals += 1;
                let blamed: Vec<_> = report
                    .diagnostics
                    .iter()
                    .filter(|d| suggests_a_misspelling(d))
                    .collect();
                assert!(
                    blamed.is_empty(),
                    "{name} without {object}/{key}: {blamed:#?}"
                );
            }
        }
    }
    if removals > 0 {
        assert!(removals >= 200, "only {removals} keys removed");
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
