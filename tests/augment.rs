//! Injection on real and hand-made workflows: the reference tool's correct outputs are
//! reproduced, its mistakes are not, and every promise of the augmentation holds.

mod support;

use std::path::{Path, PathBuf};

use ephflow::core::inject::{Augmented, Options, Strategy, inject, verify::verify};
use ephflow::core::validate::validate_document;
use ephflow::schema::Document;
use serde_json::{Value, json};

fn load(path: &Path) -> Document {
    Document::parse(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Augments, checks the result validates and keeps every promise; returns it.
fn augment(path: &Path, strategy: Strategy) -> (Augmented, Document) {
    support::link_plugins();
    let doc = load(path);
    let report = validate_document(&doc).unwrap();
    assert!(
        report.is_valid(),
        "{}: {:#?}",
        path.display(),
        report.diagnostics
    );
    let workflow = report.workflow.unwrap();
    let a = inject(&workflow, strategy, &Options::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let out = a.apply(doc.clone());
    let after = validate_document(&out).unwrap();
    let errors: Vec<_> = after.diagnostics.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "{} ({strategy:?}): {errors:#?}",
        path.display()
    );
    if let Err(problems) = verify(&workflow, &after.workflow.unwrap(), &a) {
        panic!("{} ({strategy:?}): {problems:#?}", path.display());
    }
    (a, out)
}

fn invoke_next(doc: &Document, action: &str) -> Value {
    doc.value()["ActionList"][action]["InvokeNext"].clone()
}

#[test]
fn reproduces_the_reference_tool_where_it_is_right() {
    let Some(corpus) = support::corpus_dir() else {
        return;
    };
    for name in ["rworkflowvm", "rworkflowvm_complex", "demo_demo"] {
        let (_, out) = augment(
            &corpus.join(format!("faasr/{name}.json")),
            Strategy::Parallel,
        );
        let reference =
            load(&corpus.join(format!("faasr-augmented-reference/{name}_augmented.json")));
        let (ours, theirs) = (out.value(), reference.value());
        for key in ["ActionList", "FunctionInvoke", "ActionContainers"] {
            assert_eq!(ours[key], theirs[key], "{name}: {key}");
        }
        let order = |v: &Value| {
            v["ActionList"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(order(ours), order(theirs), "{name}: action order");
        // Byte for byte, once both are written the same way.
        assert_eq!(
            out.to_pretty_string(),
            reference.to_pretty_string(),
            "{name}"
        );
    }
}

#[test]
fn fixes_the_reference_deadlock_on_exclusive_leaves() {
    let Some(corpus) = support::corpus_dir() else {
        return;
    };
    for strategy in [Strategy::Parallel, Strategy::Sequential] {
        let (a, out) = augment(&corpus.join("faasr/flare_workflow.json"), strategy);
        let stops: Vec<_> = a.stops.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(stops, ["faasr-vm-stop", "faasr-vm-stop-2"]);
        assert_eq!(invoke_next(&out, "check-notify"), json!(["faasr-vm-stop"]));
        assert_eq!(invoke_next(&out, "viz-HOx-off"), json!(["faasr-vm-stop-2"]));
        assert!(a.warnings.is_empty());
    }
}

#[test]
fn every_corpus_workflow_augments_in_both_strategies() {
    let files = support::corpus_workflows();
    for path in files {
        let name = path.file_name().unwrap().to_str().unwrap();
        if support::CORPUS_REJECTED.iter().any(|(f, _)| *f == name) {
            continue;
        }
        for strategy in [Strategy::Parallel, Strategy::Sequential] {
            let (a, out) = augment(&path, strategy);
            let original = load(&path);
            let has_vm = original.workflow().unwrap().vm_actions().next().is_some();
            assert_eq!(a.is_unchanged(), !has_vm, "{name}");
            if !has_vm {
                assert_eq!(out.value(), original.value(), "{name} must be unchanged");
            }
        }
    }
}

fn fixture(name: &str) -> PathBuf {
    support::root()
        .join("tests/fixtures/augment")
        .join(format!("{name}.json"))
}

/// Every fixture in both strategies against its committed expected output
/// (regenerate with `EPHFLOW_BLESS=1 cargo test --test augment`).
#[test]
fn fixtures_match_their_expected_outputs() {
    let dir = support::root().join("tests/fixtures/augment");
    let expected_dir = dir.join("expected");
    std::fs::create_dir_all(&expected_dir).unwrap();
    let fixtures = support::json_files(&dir);
    assert!(fixtures.len() >= 11);
    for path in fixtures {
        for strategy in [Strategy::Parallel, Strategy::Sequential] {
            let (a, out) = augment(&path, strategy);
            let stem = path.file_stem().unwrap().to_str().unwrap();
            let expected = expected_dir.join(format!("{stem}.{}.json", strategy.name()));
            let warnings_file =
                expected_dir.join(format!("{stem}.{}.warnings.txt", strategy.name()));
            let text = out.to_pretty_string();
            let warnings: String = a
                .warnings
                .iter()
                .map(|w| format!("{}\n", w.message))
                .collect();
            if std::env::var_os("EPHFLOW_BLESS").is_some() {
                std::fs::write(&expected, &text).unwrap();
                if warnings.is_empty() {
                    let _ = std::fs::remove_file(&warnings_file);
                } else {
                    std::fs::write(&warnings_file, &warnings).unwrap();
                }
                continue;
            }
            let bless =
                "if the change is intended, run `EPHFLOW_BLESS=1 cargo test --test augment`";
            let committed = std::fs::read_to_string(&expected).unwrap_or_default();
            assert!(
                committed == text,
                "{} differs from {}; {bless}\n{text}",
                path.display(),
                expected.display()
            );
            let committed = std::fs::read_to_string(&warnings_file).unwrap_or_default();
            assert!(
                committed == warnings,
                "{}: warnings differ from {}; {bless}\n{warnings}",
                path.display(),
                warnings_file.display()
            );
        }
    }
}

#[test]
fn ranked_vm_action_keeps_its_rank_behind_the_poll() {
    let (_, out) = augment(&fixture("ranked-vm-action"), Strategy::Parallel);
    assert_eq!(
        invoke_next(&out, "split"),
        json!(["faasr-vm-poll-simulate"])
    );
    assert_eq!(
        invoke_next(&out, "faasr-vm-poll-simulate"),
        json!(["simulate(4)"])
    );
}

#[test]
fn mixed_lists_are_rewritten_item_by_item() {
    let (_, out) = augment(&fixture("mixed-list"), Strategy::Parallel);
    assert_eq!(
        invoke_next(&out, "route"),
        json!(["audit", {"True": ["faasr-vm-poll-train"], "False": ["skip-training"]}, "report"])
    );
}

#[test]
fn an_entry_vm_action_waits_behind_start_and_poll() {
    let (_, out) = augment(&fixture("vm-entry"), Strategy::Parallel);
    assert_eq!(
        invoke_next(&out, "faasr-vm-start"),
        json!(["faasr-vm-poll-crunch"])
    );
    assert_eq!(invoke_next(&out, "faasr-vm-poll-crunch"), json!(["crunch"]));
}

#[test]
fn predecessors_of_a_vm_action_share_one_poll() {
    let (a, out) = augment(&fixture("fan-in-to-vm"), Strategy::Parallel);
    assert_eq!(invoke_next(&out, "left"), json!(["faasr-vm-poll-combine"]));
    assert_eq!(invoke_next(&out, "right"), json!(["faasr-vm-poll-combine"]));
    assert_eq!(
        a.actions
            .keys()
            .filter(|k| k.starts_with("faasr-vm-poll"))
            .count(),
        1
    );
}

#[test]
fn a_vm_action_as_the_only_leaf_precedes_the_stop() {
    let (_, out) = augment(&fixture("vm-only-leaf"), Strategy::Parallel);
    assert_eq!(invoke_next(&out, "train"), json!(["faasr-vm-stop"]));
}

#[test]
fn chained_conditionals_get_one_stop_per_outcome() {
    let (a, out) = augment(&fixture("chained-conditionals"), Strategy::Parallel);
    let stops: Vec<(&str, Vec<usize>)> = a
        .stops
        .iter()
        .map(|s| (s.name.as_str(), s.after.iter().map(|e| e.action).collect()))
        .collect();
    assert_eq!(stops.len(), 3, "{stops:?}");
    assert_eq!(invoke_next(&out, "deep-run"), json!(["faasr-vm-stop"]));
    assert_eq!(invoke_next(&out, "shallow-run"), json!(["faasr-vm-stop-2"]));
    assert_eq!(invoke_next(&out, "give-up"), json!(["faasr-vm-stop-3"]));
}

#[test]
fn lifecycle_actions_use_the_first_github_server_and_its_first_image() {
    let (a, out) = augment(&fixture("several-github-servers"), Strategy::Parallel);
    for action in a.actions.keys() {
        assert_eq!(
            out.value()["ActionList"][action]["FaaSServer"],
            "GH-A",
            "{action}"
        );
        assert_eq!(
            out.value()["ActionContainers"][action],
            "ghcr.io/example/a-image:2",
            "{action}"
        );
    }
}

/// An ActionContainers entry for an injected name pins that action's image (found by fuzzing:
/// it used to be overwritten), and validation does not call it unused.
#[test]
fn an_existing_container_entry_for_an_injected_name_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("several-github-servers")).unwrap())
            .unwrap();
    doc["ActionContainers"]["faasr-vm-stop"] = json!("ghcr.io/example/stopper:1");
    let path = dir.path().join("pinned.json");
    std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let warnings = validate_document(&load(&path)).unwrap().diagnostics;
    assert!(
        !warnings.iter().any(|d| d.code == "unused-container"),
        "{warnings:#?}"
    );
    for strategy in [Strategy::Parallel, Strategy::Sequential] {
        let (a, out) = augment(&path, strategy);
        assert!(a.actions.contains_key("faasr-vm-stop"), "{strategy:?}");
        for action in a.actions.keys() {
            let expected = if action == "faasr-vm-stop" {
                "ghcr.io/example/stopper:1"
            } else {
                "ghcr.io/example/a-image:2"
            };
            assert_eq!(
                out.value()["ActionContainers"][action],
                expected,
                "{strategy:?} {action}"
            );
        }
    }
}

#[test]
fn an_empty_branch_ending_alone_gets_a_conditional_stop() {
    let (a, out) = augment(&fixture("empty-branch"), Strategy::Parallel);
    assert!(a.warnings.is_empty(), "{:#?}", a.warnings);
    assert_eq!(
        invoke_next(&out, "decide"),
        json!([{"True": ["faasr-vm-stop"], "False": ["retry-later"]}])
    );
    assert_eq!(invoke_next(&out, "retry-later"), json!(["faasr-vm-stop-2"]));
}

#[test]
fn an_optional_side_branch_is_reported_not_miswired() {
    let (a, _) = augment(&fixture("optional-side-branch"), Strategy::Parallel);
    assert_eq!(a.stops.len(), 1);
    assert_eq!(a.warnings.len(), 1);
    let w = &a.warnings[0];
    assert_eq!(w.code, "no-clean-stop");
    assert!(
        w.message.contains("\"route\" returns False"),
        "{}",
        w.message
    );
    assert!(
        w.hint
            .as_ref()
            .unwrap()
            .contains("False branch of \"route\"")
    );
}

#[test]
fn sequential_waits_for_the_vm_before_anything() {
    let (a, out) = augment(&fixture("mixed-list"), Strategy::Sequential);
    assert_eq!(
        invoke_next(&out, "faasr-vm-start"),
        json!(["faasr-vm-poll"])
    );
    assert_eq!(invoke_next(&out, "faasr-vm-poll"), json!(["route"]));
    assert_eq!(
        out.value()["ActionList"]["faasr-vm-poll"]["FunctionName"],
        "vm_poll"
    );
    assert_eq!(a.gated, ["train"]);
    // VM actions keep their direct edges: the one poll already waited.
    assert_eq!(
        invoke_next(&out, "route"),
        json!(["audit", {"True": ["train"], "False": ["skip-training"]}, "report"])
    );
}
