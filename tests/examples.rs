//! The examples stay true: every example workflow validates without warnings, augments with a
//! stop on every path, points its `$schema` at the committed schema, and satisfies the schema
//! files for an independent validator; the editor settings map them to the draft-07 copy; the
//! plain binary rejects the out-of-tree provider's workflow. (The plugin and embedding crates
//! test themselves: examples/provider-plugin/tests, examples/embedding/tests.)

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ephflow::core::inject::{Options, Strategy, inject};
use ephflow::schema::Document;
use serde_json::Value;

/// The example workflows: examples/*.json and examples/workflows/*.json, without the
/// `_augmented` outputs the README's commands leave beside them.
fn example_workflows() -> Vec<PathBuf> {
    let examples = support::root().join("examples");
    let mut files = support::json_files(&examples);
    files.extend(support::json_files(&examples.join("workflows")));
    files.retain(|p| !p.to_string_lossy().ends_with("_augmented.json"));
    assert!(files.len() >= 6, "examples found: {files:?}");
    files
}

/// The out-of-tree provider's workflow: valid only where that provider is linked.
fn plugin_workflow() -> PathBuf {
    support::root().join("examples/provider-plugin/workflow.json")
}

fn ephflow(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ephflow"))
        .args(args)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn read(path: &Path) -> Document {
    Document::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn every_example_validates_without_warnings() {
    let files = example_workflows();
    let mut args = vec!["validate", "--deny-warnings"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let out = ephflow(&args);
    assert!(out.status.success(), "{}", text(&out));
}

/// Both strategies: nothing left without a stop, and the result validates without warnings
/// (a join after exclusive branches would be one).
#[test]
fn every_example_augments_with_a_stop_on_every_path() {
    support::link_plugins();
    for path in example_workflows() {
        let doc = read(&path);
        let workflow = doc.workflow().unwrap();
        for strategy in [Strategy::Parallel, Strategy::Sequential] {
            let what = format!("{} ({})", path.display(), strategy.name());
            let augmented = inject(&workflow, strategy, &Options::default()).unwrap();
            assert!(
                !augmented.is_unchanged(),
                "{what}: every example uses the VM"
            );
            assert!(
                augmented.uncovered.is_empty(),
                "{what}: {:?}",
                augmented.uncovered
            );
            assert!(
                augmented.warnings.is_empty(),
                "{what}: {:?}",
                augmented.warnings
            );
            let out = augmented.apply(doc.clone());
            let report = ephflow::core::validate::validate_document(&out).unwrap();
            assert!(
                report.diagnostics.is_empty(),
                "{what}: {:?}",
                report.diagnostics
            );
        }
    }
}

#[test]
fn every_example_points_its_schema_key_at_the_committed_schema() {
    let committed = support::root()
        .join("schema/ephflow.schema.json")
        .canonicalize()
        .unwrap();
    for path in example_workflows() {
        let doc = read(&path);
        let reference = doc.value()["$schema"]
            .as_str()
            .unwrap_or_else(|| panic!("{} has no \"$schema\"", path.display()));
        let target = path.parent().unwrap().join(reference);
        let resolved = target
            .canonicalize()
            .unwrap_or_else(|e| panic!("{}: {} ({e})", path.display(), target.display()));
        assert_eq!(resolved, committed, "{}", path.display());
    }
}

/// Python's jsonschema, an implementation independent of ours, accepts every example and its
/// augmented form under both committed schemas, the draft-07 copy editors use included.
#[test]
fn the_committed_schemas_accept_every_example_for_a_standard_validator() {
    if !support::python_jsonschema() {
        return;
    }
    support::link_plugins();
    let dir = tempfile::tempdir().unwrap();
    let mut files = example_workflows();
    for path in example_workflows() {
        let doc = read(&path);
        let augmented = inject(
            &doc.workflow().unwrap(),
            Strategy::Parallel,
            &Options::default(),
        )
        .unwrap()
        .apply(doc);
        let stem = path.file_stem().unwrap().to_string_lossy();
        let out = dir.path().join(format!("{stem}_augmented.json"));
        std::fs::write(&out, augmented.to_pretty_string()).unwrap();
        files.push(out);
    }
    for schema in ["ephflow.schema.json", "ephflow.draft-07.schema.json"] {
        let out = Command::new("python3")
            .arg(support::root().join("tests/python/validate.py"))
            .arg(support::root().join("schema").join(schema))
            .args(&files)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        let result: Value = serde_json::from_slice(&out.stdout).unwrap();
        for (file, errors) in result.as_object().unwrap() {
            assert_eq!(errors, &Value::Array(vec![]), "{schema}: {file}");
        }
    }
}

/// VS Code's `fileMatch`: `*` stays within a path segment, `**` spans segments, a pattern
/// without a leading `/` matches the end of the path.
fn glob_matches(pattern: &str, path: &str) -> bool {
    fn matches(p: &[u8], s: &[u8]) -> bool {
        match p {
            [] => s.is_empty(),
            [b'*', b'*', b'/', rest @ ..] => {
                (0..=s.len()).any(|i| (i == 0 || s[i - 1] == b'/') && matches(rest, &s[i..]))
            }
            [b'*', b'*', rest @ ..] => (0..=s.len()).any(|i| matches(rest, &s[i..])),
            [b'*', rest @ ..] => (0..=s.len())
                .take_while(|&i| i == 0 || s[i - 1] != b'/')
                .any(|i| matches(rest, &s[i..])),
            [c, rest @ ..] => s.first() == Some(c) && matches(rest, &s[1..]),
        }
    }
    match pattern.strip_prefix('/') {
        Some(anchored) => matches(anchored.as_bytes(), path.as_bytes()),
        None => (0..path.len())
            .filter(|&i| i == 0 || path.as_bytes()[i - 1] == b'/')
            .any(|i| matches(pattern.as_bytes(), &path.as_bytes()[i..])),
    }
}

/// The schema VS Code applies to a workspace-relative `path`: the last matching pattern of an
/// association decides (an exclusion `!` pattern unmatches).
fn editor_schema(settings: &Value, path: &str) -> Option<String> {
    settings["json.schemas"]
        .as_array()
        .unwrap()
        .iter()
        .find(|association| {
            let patterns = association["fileMatch"].as_array().unwrap();
            patterns
                .iter()
                .filter_map(Value::as_str)
                .rfind(|p| glob_matches(p.trim_start_matches('!'), path))
                .is_some_and(|p| !p.starts_with('!'))
        })
        .map(|association| association["url"].as_str().unwrap().to_owned())
}

#[test]
fn the_editor_settings_map_the_examples_to_the_draft_07_schema() {
    let root = support::root();
    let settings: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(".vscode/settings.json")).unwrap())
            .unwrap();
    let draft07 = Some("./schema/ephflow.draft-07.schema.json".to_owned());
    for association in settings["json.schemas"].as_array().unwrap() {
        let url = association["url"].as_str().unwrap();
        assert!(root.join(url).is_file(), "{url} does not exist");
    }
    for path in example_workflows() {
        let relative = path.strip_prefix(&root).unwrap().to_str().unwrap();
        assert_eq!(editor_schema(&settings, relative), draft07, "{relative}");
    }
    for path in [
        "examples/ml-pipeline_augmented.json",
        "examples/workflows/ranked_augmented.json",
        "workflows/nightly.faasr.json",
    ] {
        assert_eq!(editor_schema(&settings, path), draft07, "{path}");
    }
    // Its provider is unknown to the committed schema; it needs the plugin binary's schema.
    assert_eq!(
        editor_schema(&settings, "examples/provider-plugin/workflow.json"),
        None
    );
    assert_eq!(
        editor_schema(&settings, "tests/fixtures/plan/durations.json"),
        None
    );
}

#[test]
fn glob_matching_follows_vs_code() {
    assert!(glob_matches("/examples/**/*.json", "examples/a.json"));
    assert!(glob_matches("/examples/**/*.json", "examples/x/y/a.json"));
    assert!(!glob_matches("/examples/**/*.json", "src/examples/a.json"));
    assert!(glob_matches("*.faasr.json", "a/b/flow.faasr.json"));
    assert!(!glob_matches("*.faasr.json", "a/b/flow.json"));
    assert!(glob_matches(
        "/examples/provider-plugin/**",
        "examples/provider-plugin/w.json"
    ));
}

/// The plain binary links only the shipped providers: it rejects `Provider: "Example"` and
/// lists what it has. (`ephflow-with-example` accepts the same file.)
#[test]
fn the_plain_binary_rejects_the_plugin_workflow_listing_its_providers() {
    let out = ephflow(&["validate", plugin_workflow().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let text = text(&out);
    assert!(text.contains("unknown-provider"), "{text}");
    assert!(text.contains("\"Example\""), "{text}");
    for kind in ephflow::SHIPPED_PROVIDERS {
        assert!(
            text.contains(&format!("\"{kind}\"")),
            "lists {kind}: {text}"
        );
    }
}

/// The examples README describes every example.
#[test]
fn the_examples_readme_names_every_example() {
    let root = support::root();
    let readme = std::fs::read_to_string(root.join("examples/README.md")).unwrap();
    let mut named: Vec<PathBuf> = example_workflows();
    named.push(plugin_workflow());
    for path in named {
        let relative = path.strip_prefix(root.join("examples")).unwrap();
        assert!(
            readme.contains(relative.to_str().unwrap()),
            "examples/README.md does not mention {}",
            relative.display()
        );
    }
    for dir in ["provider-plugin/", "embedding/"] {
        assert!(
            readme.contains(dir),
            "examples/README.md does not mention {dir}"
        );
    }
}
