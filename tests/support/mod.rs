//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// Links the shipped plugins into this test crate (see `ephflow::SHIPPED_PROVIDERS`).
pub fn link_plugins() {
    ephflow::register_plugins();
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub use ephflow_core::testkit::missing;

pub mod world;

/// The shared corpus of real FaaSr workflows: `$EPHFLOW_CORPUS`, or `../shared/corpus`.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("EPHFLOW_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/corpus"));
    if dir.join("faasr").is_dir() {
        Some(dir)
    } else {
        missing(&format!("the FaaSr corpus ({})", dir.display()));
        None
    }
}

/// Every workflow file in the corpus, sorted.
pub fn corpus_workflows() -> Vec<PathBuf> {
    let Some(dir) = corpus_dir() else {
        return Vec::new();
    };
    json_files(&dir.join("faasr"))
}

/// The `.json` files of a directory, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

/// The corpus files ephflow must reject, with the rule each breaks.
pub const CORPUS_REJECTED: &[(&str, &str)] = &[
    (
        "flare_workflow_lambda.json",
        "vm-action-not-on-github-actions",
    ),
    ("flare_workflow_lambda_wovm.json", "vm-config-missing"),
];

/// Whether Python with the `jsonschema` package is available.
pub fn python_jsonschema() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import jsonschema"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        missing("python3 with the jsonschema package (pip install jsonschema)");
    }
    ok
}
