//! The behaviour every [`VmProvider`] and every [`CompletionStore`] must have, as async checks
//! a plugin crate runs against itself (on a fake, on moto, on a real account).

use std::sync::Arc;
use std::time::Duration;

use crate::action::store::{CompletionStore, Created};

use crate::lifecycle::{Lifecycle, Quiet, ReadinessPolicy};
use crate::provider::{ErrorClass, VmProvider, VmState};

/// Runs the conformance suite. `stopped` must be an existing VM in the stopped state;
/// `missing` must point at a VM that does not exist. Panics with a message naming the broken
/// promise.
pub async fn check_provider(stopped: &dyn VmProvider, missing: &dyn VmProvider, step: Duration) {
    let policy = ReadinessPolicy {
        initial_interval: step,
        max_interval: step * 4,
        status_timeout: step * 2000,
        runner_timeout: step * 2000,
        transition_timeout: step * 2000,
        ..ReadinessPolicy::default()
    };
    let engine = Lifecycle::new(stopped, policy.clone(), &Quiet);

    let status = stopped.describe().await.expect("describe a stopped VM");
    assert_eq!(
        status.state,
        VmState::Stopped,
        "the VM must start out stopped"
    );
    stopped
        .preflight()
        .await
        .expect("preflight with sufficient permissions");

    let started = engine.start().await.expect("start a stopped VM");
    assert!(started.requested, "starting a stopped VM sends a request");
    let again = engine.start().await.expect("start again");
    assert!(
        !again.requested,
        "starting a pending or running VM sends nothing"
    );

    let ready = engine.wait_ready().await.expect("the VM becomes ready");
    assert_eq!(ready.status.state, VmState::Running);
    assert!(
        ready.status.is_healthy(),
        "ready without a runner check means checks ok"
    );

    let stopped_once = engine.stop().await.expect("stop a running VM");
    assert!(
        stopped_once.requested,
        "stopping a running VM sends a request"
    );
    let stopped_twice = engine.stop().await.expect("stop again");
    assert!(
        !stopped_twice.requested,
        "stopping a stopping or stopped VM sends nothing"
    );

    // Eventually stopped.
    let mut state = stopped.describe().await.expect("describe").state;
    for _ in 0..2000 {
        if state == VmState::Stopped {
            break;
        }
        tokio::time::sleep(step).await;
        state = stopped.describe().await.expect("describe").state;
    }
    assert_eq!(state, VmState::Stopped, "a stopped VM ends up stopped");

    let err = missing
        .describe()
        .await
        .expect_err("describing a missing VM fails");
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    assert!(
        err.to_string().contains(missing.vm_id()),
        "the error names the VM: {err}"
    );
    let missing_engine = Lifecycle::new(missing, policy, &Quiet);
    let err = missing_engine
        .start()
        .await
        .expect_err("starting a missing VM fails");
    assert_eq!(err.class(), ErrorClass::NotFound);
}

/// The promises of a [`CompletionStore`]: absent objects read as absent, `put` overwrites,
/// `create_new` writes only once, and of eight concurrent `create_new` calls on one key
/// exactly one creates it. Keys go under `prefix` (use a fresh one per run). Panics with a
/// message naming the broken promise.
pub async fn check_store(store: Arc<dyn CompletionStore>, prefix: &str) {
    let key = |name: &str| format!("{prefix}/{name}");
    assert!(
        !store
            .exists(&key("absent"))
            .await
            .expect("exists on an absent key"),
        "an absent object does not exist"
    );
    assert_eq!(
        store.get(&key("absent")).await.expect("get an absent key"),
        None,
        "an absent object reads as None"
    );
    store
        .put(&key("a/b.done"), b"one".to_vec())
        .await
        .expect("put");
    assert!(store.exists(&key("a/b.done")).await.expect("exists"));
    assert_eq!(
        store.get(&key("a/b.done")).await.expect("get").as_deref(),
        Some(&b"one"[..])
    );
    store
        .put(&key("a/b.done"), b"two".to_vec())
        .await
        .expect("put over an object");
    assert_eq!(
        store.get(&key("a/b.done")).await.expect("get").as_deref(),
        Some(&b"two"[..]),
        "put replaces the object"
    );
    assert!(
        !store.exists(&key("a")).await.expect("exists on a prefix"),
        "a key prefix is not an object"
    );

    let claim = key("claim");
    assert_eq!(
        store
            .create_new(&claim, b"first".to_vec())
            .await
            .expect("create"),
        Created::Created
    );
    assert_eq!(
        store
            .create_new(&claim, b"second".to_vec())
            .await
            .expect("create again"),
        Created::AlreadyExists,
        "create_new on an existing object reports it"
    );
    assert_eq!(
        store.get(&claim).await.expect("get").as_deref(),
        Some(&b"first"[..]),
        "a refused create_new writes nothing"
    );

    let contested = key("contested");
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let contested = contested.clone();
            tokio::spawn(async move {
                store
                    .create_new(&contested, format!("contender {i}").into_bytes())
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for task in tasks {
        if task.await.expect("no panic").expect("create_new") == Created::Created {
            created += 1;
        }
    }
    assert_eq!(created, 1, "exactly one of eight concurrent creates wins");
}
