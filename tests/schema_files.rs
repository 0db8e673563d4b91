//! The committed JSON Schema files: current, self-contained, documented, and agreeing with an
//! independent validator on the corpus.

mod support;

use ephflow::schema::Draft;
use serde_json::Value;

const DRAFTS: [Draft; 2] = [Draft::Draft2020_12, Draft::Draft07];

fn generated(draft: Draft) -> String {
    support::link_plugins();
    let schema = ephflow::core::validate::document_schema(draft).unwrap();
    ephflow::schema::document::to_pretty_string(&schema)
}

/// Regenerate with `EPHFLOW_BLESS=1 cargo test --test schema_files`.
#[test]
fn committed_schemas_are_current() {
    for draft in DRAFTS {
        let path = support::root().join("schema").join(draft.file_name());
        let fresh = generated(draft);
        if std::env::var_os("EPHFLOW_BLESS").is_some() {
            std::fs::write(&path, &fresh).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: regenerate it with `EPHFLOW_BLESS=1 cargo test --test schema_files` \
             (or `ephflow schema --draft {} --output {}`)",
            path.display(),
            draft.name(),
            path.display()
        );
    }
}

#[test]
fn registry_holds_exactly_the_shipped_plugins() {
    support::link_plugins();
    let kinds = ephflow::core::registry::provider_kinds().unwrap();
    assert_eq!(kinds, ephflow::SHIPPED_PROVIDERS);
    let backends: Vec<&str> = ephflow::core::registry::backends()
        .unwrap()
        .iter()
        .map(|b| b.faas_type)
        .collect();
    assert_eq!(backends, ephflow::SHIPPED_BACKENDS);
}

fn walk<'a>(v: &'a Value, path: String, f: &mut impl FnMut(&str, &'a Value)) {
    f(&path, v);
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                walk(c, format!("{path}/{k}"), f);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                walk(c, format!("{path}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn schemas_are_self_contained_and_every_field_is_described() {
    for draft in DRAFTS {
        let schema: Value = serde_json::from_str(&generated(draft)).unwrap();
        let defs = if draft == Draft::Draft07 {
            "definitions"
        } else {
            "$defs"
        };
        let mut problems = Vec::new();
        walk(&schema, String::new(), &mut |path, v| {
            if let Some(r) = v.get("$ref").and_then(Value::as_str) {
                let target = r.strip_prefix('#').and_then(|p| schema.pointer(p));
                if !r.starts_with(&format!("#/{defs}/")) || target.is_none() {
                    problems.push(format!("{path}: $ref {r} is not a local definition"));
                }
            }
            if let Some(props) = v.get("properties").and_then(Value::as_object)
                && !path.contains("/if")
            {
                for (name, p) in props {
                    let described = p.get("description").is_some()
                        || p.get("$ref")
                            .and_then(Value::as_str)
                            .and_then(|r| schema.pointer(&r[1..]))
                            .is_some_and(|d| d.get("description").is_some());
                    if !described {
                        problems.push(format!("{path}/properties/{name} has no description"));
                    }
                }
            }
        });
        assert!(problems.is_empty(), "draft {}: {problems:#?}", draft.name());
        assert!(schema.get(defs).is_some_and(Value::is_object));
    }
}

#[test]
fn vm_config_is_composed_from_the_registry() {
    let schema: Value = serde_json::from_str(&generated(Draft::Draft2020_12)).unwrap();
    let vm = &schema["$defs"]["VMConfig"];
    assert_eq!(
        vm["properties"]["Provider"]["enum"],
        serde_json::json!(["AWS", "Command"])
    );
    assert_eq!(
        vm["allOf"][0]["if"]["properties"]["Provider"]["const"],
        "AWS"
    );
    assert_eq!(vm["allOf"][0]["then"]["$ref"], "#/$defs/AwsVmConfig");
    let aws = &schema["$defs"]["AwsVmConfig"];
    assert_eq!(aws["required"], serde_json::json!(["InstanceId", "Region"]));
    assert_eq!(vm["allOf"][1]["then"]["$ref"], "#/$defs/CommandVmConfig");
    let command = &schema["$defs"]["CommandVmConfig"];
    assert_eq!(
        command["required"],
        serde_json::json!(["InstanceId", "Commands"])
    );
    assert_eq!(
        schema["$defs"]["CommandSet"]["required"],
        serde_json::json!(["Start", "Stop", "Describe"])
    );
}

/// Python's jsonschema, given the committed schemas, accepts every corpus workflow (the two
/// VM-misuse files break rules that need cross-references, which only `ephflow validate`
/// checks) and rejects what ephflow's schema rejects.
#[test]
fn an_independent_validator_agrees() {
    let corpus = support::corpus_workflows();
    if corpus.is_empty() || !support::python_jsonschema() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let example = support::root().join("examples/ml-pipeline.json");
    let base: Value = serde_json::from_str(&std::fs::read_to_string(&example).unwrap()).unwrap();
    let mut bad_files = Vec::new();
    for (name, pointer, value) in [
        ("bad-instance", "/VMConfig/InstanceId", Value::from("i-12")),
        ("bad-region", "/VMConfig/Region", Value::from("Oregon")),
        ("bad-runner", "/VMConfig/RunnerName", Value::from("gpu:1")),
        (
            "vm-string",
            "/ActionList/train-model/RequiresVM",
            Value::from("yes"),
        ),
        ("bad-provider", "/VMConfig/Provider", Value::from("Azure")),
        (
            "command-without-stop",
            "/VMConfig",
            serde_json::json!({"Name": "LABVM", "Provider": "Command", "InstanceId": "lab-vm-1",
                "Commands": {"Start": "virsh start lab-vm-1", "Describe": "./describe-vm.sh"}}),
        ),
    ] {
        let mut doc = base.clone();
        *doc.pointer_mut(pointer).unwrap() = value;
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, doc.to_string()).unwrap();
        bad_files.push(path);
    }
    for draft in DRAFTS {
        let schema = support::root().join("schema").join(draft.file_name());
        let out = std::process::Command::new("python3")
            .arg(support::root().join("tests/python/validate.py"))
            .arg(&schema)
            .args(&corpus)
            .arg(&example)
            .args(&bad_files)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let result: serde_json::Map<String, Value> = serde_json::from_slice(&out.stdout).unwrap();
        for file in corpus.iter().chain([&example]) {
            let errors = &result[file.to_str().unwrap()];
            assert_eq!(
                errors,
                &serde_json::json!([]),
                "draft {}: {}",
                draft.name(),
                file.display()
            );
        }
        for file in &bad_files {
            let errors = result[file.to_str().unwrap()].as_array().unwrap();
            assert!(
                !errors.is_empty(),
                "draft {}: {} accepted",
                draft.name(),
                file.display()
            );
        }
    }
}
