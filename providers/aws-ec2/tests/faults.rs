//! Failures moto cannot produce, from a fake EC2 endpoint that answers EC2 XML errors: each is
//! classified, retried or not, and reported naming the instance and the permission.

use std::time::Duration;

use ephflow_aws::testkit::{Answer, FakeEc2, context};
use ephflow_aws::{Ec2Options, Ec2Provider};
use ephflow_core::lifecycle::{Lifecycle, Quiet, ReadinessPolicy};
use ephflow_core::provider::{ErrorClass, VmProvider};

const ID: &str = "i-0123456789abcdef0";

async fn provider(ec2: &FakeEc2, timeout: Duration) -> Ec2Provider {
    Ec2Provider::build_with(
        context(ID),
        Ec2Options {
            endpoint_url: Some(ec2.url.clone()),
            operation_timeout: timeout,
        },
    )
    .await
    .unwrap()
}

fn quick() -> ReadinessPolicy {
    ReadinessPolicy {
        initial_interval: Duration::from_millis(10),
        max_interval: Duration::from_millis(20),
        runner_max_interval: Duration::from_millis(20),
        ..ReadinessPolicy::default()
    }
}

#[tokio::test]
async fn throttling_is_retried_until_it_passes() {
    let ec2 = FakeEc2::start(
        ID,
        "stopped",
        vec![
            ("StartInstances", Answer::Error(503, "RequestLimitExceeded")),
            ("StartInstances", Answer::Error(503, "RequestLimitExceeded")),
        ],
    );
    let vm = provider(&ec2, Duration::from_secs(10)).await;
    let out = Lifecycle::new(&vm, quick(), &Quiet).start().await.unwrap();
    assert!(out.requested);
    let starts = ec2.count("StartInstances");
    assert_eq!(starts, 3);
}

#[tokio::test]
async fn each_ec2_error_gets_its_class() {
    for (status, code, class) in [
        (400, "IncorrectInstanceState", ErrorClass::InvalidState),
        (403, "UnauthorizedOperation", ErrorClass::PermissionDenied),
        (401, "AuthFailure", ErrorClass::PermissionDenied),
        (500, "InsufficientInstanceCapacity", ErrorClass::Temporary),
        (500, "InternalError", ErrorClass::Temporary),
        (400, "InvalidInstanceID.Malformed", ErrorClass::InvalidInput),
        (400, "InvalidInstanceID.NotFound", ErrorClass::NotFound),
    ] {
        let ec2 = FakeEc2::start(
            ID,
            "running",
            vec![("StopInstances", Answer::Error(status, code))],
        );
        let vm = provider(&ec2, Duration::from_secs(10)).await;
        let err = vm.stop().await.unwrap_err();
        assert_eq!(err.class, class, "{code}: {err}");
        assert_eq!(err.code.as_deref(), Some(code));
        assert!(err.to_string().contains(ID), "{code}: {err}");
        assert!(!err.to_string().contains("fake-secret"), "{err}");
    }
}

#[tokio::test]
async fn a_missing_permission_fails_fast_naming_it() {
    let ec2 = FakeEc2::start(
        ID,
        "stopped",
        vec![(
            "StartInstances",
            Answer::Error(403, "UnauthorizedOperation"),
        )],
    );
    let vm = provider(&ec2, Duration::from_secs(10)).await;
    let err = Lifecycle::new(&vm, quick(), &Quiet)
        .start()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::PermissionDenied);
    assert!(err.to_string().contains("ec2:StartInstances"), "{err}");
    let starts = ec2.count("StartInstances");
    assert_eq!(starts, 1, "permission errors are not retried");
}

#[tokio::test]
async fn preflight_names_the_missing_permission() {
    let ec2 = FakeEc2::start(
        ID,
        "stopped",
        vec![
            (
                "DescribeInstanceStatus",
                Answer::Error(412, "DryRunOperation"),
            ),
            ("StartInstances", Answer::Error(412, "DryRunOperation")),
            ("StopInstances", Answer::Error(403, "UnauthorizedOperation")),
        ],
    );
    let vm = provider(&ec2, Duration::from_secs(10)).await;
    let err = vm.preflight().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::PermissionDenied);
    assert!(err.to_string().contains("ec2:StopInstances"), "{err}");
}

#[tokio::test]
async fn a_hanging_endpoint_times_out_and_stop_reports_it() {
    let ec2 = FakeEc2::start(
        ID,
        "running",
        (0..10).map(|_| ("StopInstances", Answer::Hang)).collect(),
    );
    let vm = provider(&ec2, Duration::from_millis(300)).await;
    let policy = ReadinessPolicy {
        max_attempts: 2,
        ..quick()
    };
    let err = Lifecycle::new(&vm, policy, &Quiet)
        .stop()
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Timeout, "{err}");
    assert!(err.to_string().contains("timed out"), "{err}");
    let stops = ec2.count("StopInstances");
    assert_eq!(
        stops, 2,
        "a timed-out request is retried, within the attempt bound"
    );
}
