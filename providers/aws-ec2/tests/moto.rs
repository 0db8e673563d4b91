//! The AWS provider against a moto server: the shared conformance suite, and what a workflow's
//! VMConfig and secrets turn into.

use std::time::Duration;

use ephflow_aws::testkit::{Moto, context, moto_stopped_instance};
use ephflow_aws::{Ec2Options, Ec2Provider};
use ephflow_core::provider::{ErrorClass, VmProvider};
use ephflow_core::testkit::conformance::check_provider;

async fn provider(moto: &Moto, instance: &str) -> Ec2Provider {
    Ec2Provider::build_with(
        context(instance),
        Ec2Options {
            endpoint_url: Some(moto.url.clone()),
            ..Ec2Options::default()
        },
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn the_aws_provider_passes_the_conformance_suite_on_moto() {
    let Some(moto) = Moto::start() else { return };
    let id = moto_stopped_instance(&moto.url).await;
    let vm = provider(&moto, &id).await;
    let missing = provider(&moto, "i-0000000000000000a").await;
    check_provider(&vm, &missing, Duration::from_millis(20)).await;
}

#[tokio::test]
async fn an_unknown_instance_is_not_found_and_named() {
    let Some(moto) = Moto::start() else { return };
    let vm = provider(&moto, "i-0fedcba9876543210").await;
    let err = vm.describe().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound);
    assert!(err.to_string().contains("i-0fedcba9876543210"), "{err}");
    assert!(!err.to_string().contains("fake-secret"), "{err}");
    let err = vm.start().await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound, "{err}");
    assert_eq!(err.code.as_deref(), Some("InvalidInstanceID.NotFound"));
}

#[tokio::test]
async fn half_a_credential_pair_is_a_configuration_error() {
    let mut ctx = context("i-0123456789abcdef0");
    ctx.secrets = std::sync::Arc::new(ephflow_core::provider::StaticSecrets(vec![(
        "TESTVM_AccessKey".into(),
        ephflow_core::provider::Secret::new("AKIAONLYHALF"),
    )]));
    let err = Ec2Provider::build(ctx).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
    assert!(err.message.contains("TESTVM_SecretKey"), "{err}");
    assert!(!err.message.contains("AKIAONLYHALF"), "{err}");
}
