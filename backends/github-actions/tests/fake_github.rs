//! The GitHub backend against the in-process fake GitHub API.

use std::sync::Arc;
use std::time::Duration;

use ephflow_core::backend::{BackendContext, BackendRunnerProbe, ExecutionBackend, RunnerStatus};
use ephflow_core::lifecycle::{Lifecycle, Quiet, ReadinessPolicy};
use ephflow_core::provider::{ErrorClass, Secret, StaticSecrets, VmState};
use ephflow_core::schema::model::ComputeServer;
use ephflow_core::testkit::fake_provider::{FakeProvider, Timings};
use ephflow_github::GithubBackend;
use ephflow_github::testkit::FakeGitHub;

fn context(secrets: &[(&str, &str)]) -> BackendContext {
    let server: ComputeServer = serde_json::from_value(serde_json::json!({
        "FaaSType": "GitHubActions", "UserName": "example-org", "ActionRepoName": "actions", "Branch": "main"
    }))
    .unwrap();
    BackendContext {
        server_name: "GH".into(),
        server,
        secrets: Arc::new(StaticSecrets(
            secrets
                .iter()
                .map(|(k, v)| ((*k).to_owned(), Secret::new(*v)))
                .collect(),
        )),
    }
}

fn backend(gh: &FakeGitHub) -> GithubBackend {
    GithubBackend::build_with(&context(&[("GH_PAT", "ghp_testtoken")]), Some(&gh.url)).unwrap()
}

#[tokio::test]
async fn runner_statuses() {
    let gh = FakeGitHub::start();
    gh.add_runner("idle-box", "online", false);
    gh.add_runner("busy-box", "online", true);
    gh.add_runner("dark-box", "offline", false);
    let b = backend(&gh);
    assert_eq!(
        b.runner_status("idle-box").await.unwrap(),
        RunnerStatus::Online
    );
    assert_eq!(
        b.runner_status("busy-box").await.unwrap(),
        RunnerStatus::Busy
    );
    assert_eq!(
        b.runner_status("dark-box").await.unwrap(),
        RunnerStatus::Offline
    );
    assert_eq!(
        b.runner_status("no-such-box").await.unwrap(),
        RunnerStatus::Absent
    );
    let seen = gh.seen();
    assert!(
        seen[0]
            .path
            .contains("/repos/example-org/actions/actions/runners?name=idle-box"),
        "{seen:?}"
    );
    assert_eq!(seen[0].authorization, "Bearer ghp_testtoken");
}

#[tokio::test]
async fn runner_lookup_follows_pages() {
    let gh = FakeGitHub::start();
    gh.ignore_name_filter();
    for i in 0..130 {
        gh.add_runner(&format!("runner-{i:03}"), "offline", false);
    }
    gh.add_runner("the-vm", "online", false);
    let b = backend(&gh);
    assert_eq!(
        b.runner_status("the-vm").await.unwrap(),
        RunnerStatus::Online
    );
    let pages: Vec<String> = gh.seen().iter().map(|s| s.path.clone()).collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(pages[1].contains("page=2"));
    assert_eq!(
        b.runner_status("nobody").await.unwrap(),
        RunnerStatus::Absent
    );
}

/// Paging stops after 100 pages (10,000 runners) with an error naming the limit, however many
/// runners the API announces (found by audit: an endless loop of requests).
#[tokio::test]
async fn runner_lookup_reads_at_most_a_hundred_pages() {
    let gh = FakeGitHub::start();
    gh.ignore_name_filter();
    for i in 0..10_050 {
        gh.add_runner(&format!("runner-{i:05}"), "offline", false);
    }
    let err = backend(&gh).runner_status("the-vm").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Unsupported, "{err}");
    assert!(
        err.message.contains("first 10000 runners") && err.message.contains("10050"),
        "{err}"
    );
    assert_eq!(gh.seen().len(), 100);
}

#[tokio::test]
async fn token_precedence() {
    let gh = FakeGitHub::start();
    let for_server = |secrets: &[(&str, &str)]| {
        let mut ctx = context(secrets);
        ctx.server_name = "MyGH".into();
        GithubBackend::build_with(&ctx, Some(&gh.url)).unwrap()
    };
    let everything = [
        ("MyGH_PAT", "ghp_server"),
        ("GH_PAT", "ghp_shared"),
        ("GITHUB_TOKEN", "ghs_job"),
    ];
    for_server(&everything).runner_status("x").await.unwrap();
    for_server(&everything[1..])
        .runner_status("x")
        .await
        .unwrap();
    for_server(&everything[2..])
        .runner_status("x")
        .await
        .unwrap();
    let auth: Vec<String> = gh.seen().iter().map(|s| s.authorization.clone()).collect();
    assert_eq!(
        auth,
        ["Bearer ghp_server", "Bearer ghp_shared", "Bearer ghs_job"]
    );
    let err = GithubBackend::build_with(&context(&[]), Some(&gh.url)).unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
    assert!(
        err.message.contains("GH_PAT") && err.message.contains("GITHUB_TOKEN"),
        "{err}"
    );
}

#[tokio::test]
async fn dispatch_sends_faasr_inputs_once() {
    let gh = FakeGitHub::start();
    let b = backend(&gh);
    let inputs = vec![
        (
            "OVERWRITTEN".to_owned(),
            r#"{"FunctionInvoke":"faasr-vm-start"}"#.to_owned(),
        ),
        (
            "PAYLOAD_URL".to_owned(),
            "example-org/actions/main/wf.json".to_owned(),
        ),
    ];
    b.dispatch("wf-faasr-vm-start.yml", "main", &inputs)
        .await
        .unwrap();
    let seen = gh.seen();
    assert_eq!(seen[0].method, "POST");
    assert!(
        seen[0]
            .path
            .ends_with("/actions/workflows/wf-faasr-vm-start.yml/dispatches")
    );
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body["ref"], "main");
    assert_eq!(
        body["inputs"]["PAYLOAD_URL"],
        "example-org/actions/main/wf.json"
    );

    gh.answer_next("dispatches", 500, &[]);
    let err = b.dispatch("wf-a.yml", "main", &inputs).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::OutcomeUnknown, "{err}");
    assert!(!err.class.is_retryable());
    assert!(err.message.contains("not re-sent"), "{err}");
    let posts = gh
        .seen()
        .iter()
        .filter(|s| s.path.contains("wf-a.yml"))
        .count();
    assert_eq!(posts, 1, "a failed dispatch is never re-sent");
}

#[tokio::test]
async fn failures_are_classified_and_name_the_permission() {
    for (status, headers, class, words) in [
        (401, vec![], ErrorClass::PermissionDenied, "check the PAT"),
        (403, vec![], ErrorClass::PermissionDenied, "Actions: write"),
        (404, vec![], ErrorClass::NotFound, "UserName/ActionRepoName"),
        (422, vec![], ErrorClass::InvalidInput, "422"),
        (
            429,
            vec![("retry-after", "7")],
            ErrorClass::RateLimited,
            "rate limit",
        ),
        (
            403,
            vec![
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "4102444800"),
            ],
            ErrorClass::RateLimited,
            "4102444800",
        ),
    ] {
        let gh = FakeGitHub::start();
        gh.answer_next("dispatches", status, &headers);
        let err = backend(&gh)
            .dispatch("wf-a.yml", "main", &[])
            .await
            .unwrap_err();
        assert_eq!(err.class, class, "{status}: {err}");
        assert!(err.to_string().contains(words), "{status}: {err}");
        assert!(!err.to_string().contains("ghp_testtoken"));
        if status == 429 {
            assert_eq!(err.retry_after, Some(Duration::from_secs(7)));
        }
    }
    let gh = FakeGitHub::start();
    gh.answer_next("runners", 403, &[]);
    let err = backend(&gh).runner_status("x").await.unwrap_err();
    assert!(err.to_string().contains("Administration: read"), "{err}");
}

#[tokio::test]
async fn contents_are_fetched_or_reported_missing() {
    let gh = FakeGitHub::start();
    gh.add_file(
        "workflows/ml pipeline.json",
        "main",
        b"{\"WorkflowName\": \"x\"}",
    );
    let b = backend(&gh);
    let got = b
        .fetch_file("workflows/ml pipeline.json", "main")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, b"{\"WorkflowName\": \"x\"}");
    assert!(
        b.fetch_file("workflows/ml pipeline.json", "dev")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn readiness_waits_for_the_runner_on_the_fake_api() {
    let gh = FakeGitHub::start();
    gh.runner_comes_online_after("gpu-runner", 3);
    let b = backend(&gh);
    let vm = FakeProvider::new("i-0123456789abcdef0", VmState::Running, Timings::default());
    let probe = BackendRunnerProbe::new(&b, "gpu-runner");
    let policy = ReadinessPolicy {
        initial_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(20),
        runner_max_interval: Duration::from_millis(20),
        ..ReadinessPolicy::default()
    };
    let out = Lifecycle::new(&vm, policy, &Quiet)
        .with_runner(&probe)
        .wait_ready()
        .await
        .unwrap();
    assert_eq!(out.status.state, VmState::Running);
    let polls = gh
        .seen()
        .iter()
        .filter(|s| s.path.contains("/runners"))
        .count();
    assert_eq!(polls, 4, "online on the fourth look");
}
