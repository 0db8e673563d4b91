//! The `Example` provider keeps the promises every VM provider must keep (the core's
//! conformance suite), in memory and in a state file, and is reachable through the registry
//! exactly as the CLI reaches it.

use std::sync::Arc;
use std::time::Duration;

use ephflow_core::provider::{BuildContext, StaticSecrets, VmState};
use ephflow_core::schema::Document;
use ephflow_core::testkit::conformance::check_provider;
use ephflow_example_provider::{ExampleProvider, KIND};

/// The VMConfig of the crate's example workflow, with `StateFile` set to `state`.
fn context(state: &std::path::Path) -> BuildContext {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/workflow.json");
    let doc = Document::parse(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut config = doc.workflow().unwrap().vm_config.unwrap();
    config
        .extra
        .insert("StateFile".into(), state.to_str().unwrap().into());
    BuildContext {
        config,
        secrets: Arc::new(StaticSecrets::default()),
    }
}

#[tokio::test(start_paused = true)]
async fn the_in_memory_vm_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let stopped = ExampleProvider::in_memory("toy-1", 3);
    let missing = ExampleProvider::in_file("toy-gone", 3, dir.path().join("absent.json"));
    check_provider(&stopped, &missing, Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn the_file_backed_vm_conforms() {
    let dir = tempfile::tempdir().unwrap();
    let stopped = ExampleProvider::build(&context(&dir.path().join("vm.json"))).unwrap();
    let missing = ExampleProvider::in_file("toy-gone", 3, dir.path().join("absent.json"));
    check_provider(&stopped, &missing, Duration::from_secs(1)).await;
}

#[tokio::test]
async fn the_registry_builds_it_from_a_vmconfig_and_the_state_outlives_the_provider() {
    let registered = ephflow_core::registry::provider(KIND).unwrap();
    assert!(
        registered.is_some(),
        "linking the crate registers \"{KIND}\""
    );
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("vm.json");
    let first = ephflow_core::registry::build(context(&state))
        .await
        .unwrap();
    assert_eq!(first.vm_id(), "toy-1");
    first.start().await.unwrap();
    drop(first);
    // A second provider (as a second command would build) sees the same VM.
    let second = ephflow_core::registry::build(context(&state))
        .await
        .unwrap();
    assert_eq!(second.describe().await.unwrap().state, VmState::Pending);
}

#[tokio::test]
async fn a_bad_vmconfig_is_invalid_input_naming_the_vmconfig() {
    let dir = tempfile::tempdir().unwrap();
    let mut ctx = context(&dir.path().join("vm.json"));
    ctx.config
        .extra
        .insert("BootDescribes".into(), "many".into());
    let err = ephflow_core::registry::build(ctx).await.err().unwrap();
    assert_eq!(err.class, ephflow_core::provider::ErrorClass::InvalidInput);
    assert!(err.message.contains("TOYVM"), "{err}");
}
