//! ephflow-aws: the AWS EC2 VM provider.
//!
//! Registers the `AWS` provider kind: its VMConfig schema (InstanceId, Region) and an
//! [`Ec2Provider`] on aws-sdk-ec2. Credentials: `<Name>_AccessKey` / `<Name>_SecretKey`, else
//! the standard AWS chain. Endpoint override: `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL`
//! (moto, EC2-compatible clouds). IAM: ec2:StartInstances, ec2:StopInstances on the instance,
//! ec2:DescribeInstanceStatus, ec2:DescribeInstances ([`iam::access_policy`]).

#![warn(missing_docs)]

mod config;
pub mod iam;
pub mod oidc;
mod provider;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use config::{AwsVmConfig, EC2_INSTANCE_ID, REGION, ROLE_ARN, role_arn};
pub use provider::{CredentialSource, Ec2Options, Ec2Provider};

/// The `VMConfig.Provider` value for this provider.
pub const KIND: &str = "AWS";

inventory::submit! {
    ephflow_core::registry::ProviderRegistration {
        kind: KIND,
        description: "an existing AWS EC2 instance, started and stopped by id",
        config_schema: |generator| generator.subschema_for::<AwsVmConfig>(),
        build: |ctx| Box::pin(async move {
            let provider = Ec2Provider::build(ctx).await?;
            Ok(Box::new(provider) as Box<dyn ephflow_core::provider::VmProvider>)
        }),
        ci_stop_step,
        access_policy: iam::access_policy,
    }
}

/// The failure-teardown step: the AWS CLI preinstalled on GitHub-hosted runners stops the
/// instance, with the `<Name>_*` secrets as the standard AWS variables — or, with
/// `VMConfig.RoleArn`, with the job's OIDC token, fetched into a private file for the CLI's
/// web-identity credentials (curl and jq are preinstalled too).
fn ci_stop_step(
    config: &ephflow_core::schema::model::VmConfig,
) -> Option<ephflow_core::provider::CiStep> {
    use ephflow_core::provider::{CiStep, CiValue};
    let role = role_arn(config);
    let mut env = match role {
        Some(role) => vec![("AWS_ROLE_ARN".into(), CiValue::Literal(role.to_owned()))],
        None => vec![
            (
                "AWS_ACCESS_KEY_ID".into(),
                CiValue::Secret(format!("{}_AccessKey", config.name)),
            ),
            (
                "AWS_SECRET_ACCESS_KEY".into(),
                CiValue::Secret(format!("{}_SecretKey", config.name)),
            ),
        ],
    };
    env.push((
        "AWS_DEFAULT_REGION".into(),
        CiValue::Literal(config.region.clone()?),
    ));
    env.push((
        "EPHFLOW_INSTANCE_ID".into(),
        CiValue::Literal(config.instance_id.clone()?),
    ));
    let id_token = role.is_some();
    let run = if id_token {
        CI_STOP_RUN_OIDC
    } else {
        CI_STOP_RUN
    };
    Some(CiStep {
        name: "Stop the VM".into(),
        env,
        run: run.into(),
        id_token,
    })
}

/// The teardown command with key secrets.
const CI_STOP_RUN: &str = "aws ec2 stop-instances --instance-ids \"$EPHFLOW_INSTANCE_ID\"";

/// The teardown command with the job's OIDC token (`sts.amazonaws.com` audience). POSIX sh (a
/// job may run it with `sh`), so no pipefail: the answer is kept, then `jq -e` fails on one
/// without a token rather than writing `null` for STS to refuse.
const CI_STOP_RUN_OIDC: &str = r#"set -eu
umask 077
export AWS_WEB_IDENTITY_TOKEN_FILE="$RUNNER_TEMP/ephflow-oidc-token"
answer=$(curl -sSf --retry 3 -H "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN" "$ACTIONS_ID_TOKEN_REQUEST_URL&audience=sts.amazonaws.com")
printf '%s' "$answer" | jq -er .value > "$AWS_WEB_IDENTITY_TOKEN_FILE"
aws ec2 stop-instances --instance-ids "$EPHFLOW_INSTANCE_ID"
"#;

/// Links this crate: call it (or `use ephflow_aws as _;`) from a binary that should offer the
/// AWS provider.
pub fn register() {}
