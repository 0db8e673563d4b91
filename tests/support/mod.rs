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

/// `cmd` with no AWS credentials anywhere: neither `<vm>_AccessKey` / `_SecretKey` nor any link
/// of the standard chain (environment, profile files, here empty ones in `dir`, web identity,
/// container, instance metadata).
pub fn without_aws_credentials(cmd: &mut assert_cmd::Command, vm: &str, dir: &Path) {
    let empty = dir.join("empty-aws-file");
    std::fs::write(&empty, "").unwrap();
    cmd.env_remove(format!("{vm}_AccessKey"))
        .env_remove(format!("{vm}_SecretKey"));
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    ] {
        cmd.env_remove(v);
    }
    cmd.env("AWS_CONFIG_FILE", &empty)
        .env("AWS_SHARED_CREDENTIALS_FILE", &empty)
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

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
