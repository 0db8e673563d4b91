//! ephflow-aws: the AWS EC2 VM provider.
//!
//! This crate registers the `AWS` provider kind and its VMConfig schema. The SDK-backed
//! provider (start, stop, describe on `aws-sdk-ec2`) comes with the lifecycle work; the
//! schema part is what validation and editors need today.

#![warn(missing_docs)]

mod config;

pub use config::{AwsVmConfig, EC2_INSTANCE_ID, REGION};

/// The `VMConfig.Provider` value for this provider.
pub const KIND: &str = "AWS";

inventory::submit! {
    ephflow_core::registry::ProviderRegistration {
        kind: KIND,
        description: "an existing AWS EC2 instance, started and stopped by id",
        config_schema: |generator| generator.subschema_for::<AwsVmConfig>(),
        build: |_| Box::pin(async {
            Err(ephflow_core::provider::ProviderError::new(
                ephflow_core::provider::ErrorClass::Unsupported,
                "the AWS provider is not built yet",
            ))
        }),
    }
}

/// Links this crate: call it (or `use ephflow_aws as _;`) from a binary that should offer the
/// AWS provider.
pub fn register() {}
