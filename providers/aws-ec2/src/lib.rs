//! ephflow-aws: the AWS EC2 VM provider.
//!
//! Registers the `AWS` provider kind: its VMConfig schema (InstanceId, Region) and an
//! [`Ec2Provider`] on aws-sdk-ec2. Credentials: `<Name>_AccessKey` / `<Name>_SecretKey`, else
//! the standard AWS chain. Endpoint override: `AWS_ENDPOINT_URL_EC2` / `AWS_ENDPOINT_URL`
//! (moto, EC2-compatible clouds). IAM: ec2:DescribeInstanceStatus, ec2:StartInstances,
//! ec2:StopInstances.

#![warn(missing_docs)]

mod config;
mod provider;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use config::{AwsVmConfig, EC2_INSTANCE_ID, REGION};
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
    }
}

/// Links this crate: call it (or `use ephflow_aws as _;`) from a binary that should offer the
/// AWS provider.
pub fn register() {}
