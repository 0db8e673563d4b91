//! The AWS part of VMConfig.

use ephflow_core::schemars::{self, JsonSchema};
use serde::{Deserialize, Serialize};

/// EC2 instance ids: `i-` and 8 (older) or 17 lowercase hex digits.
pub const EC2_INSTANCE_ID: &str = "^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$";

/// AWS region codes such as `us-west-2`, `eu-central-1`, `us-gov-west-1`, `cn-north-1`.
pub const REGION: &str = "^[a-z]{2}(?:-[a-z]+)+-[0-9]+$";

/// IAM role ARNs: `arn:aws:iam::<12-digit account>:role/<path and name>` (any partition).
pub const ROLE_ARN: &str = "^arn:aws(?:-[a-z]+)*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]+$";

/// What `VMConfig` must hold when `Provider` is `AWS`. Credentials are not here: they come from
/// the `<Name>_AccessKey` / `<Name>_SecretKey` secrets, GitHub's OIDC token for `RoleArn`, or
/// the standard AWS credential chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(rename = "AwsVmConfig")]
pub struct AwsVmConfig {
    /// The EC2 instance to start and stop: `i-` followed by 8 or 17 lowercase hex digits
    /// (for example `i-09405009da063a647`). The instance must already exist.
    #[serde(rename = "InstanceId")]
    #[schemars(pattern(EC2_INSTANCE_ID))]
    pub instance_id: String,

    /// The AWS region the instance lives in, for example `us-west-2`.
    #[serde(rename = "Region")]
    #[schemars(pattern(REGION))]
    pub region: String,

    /// An IAM role that GitHub Actions jobs assume with the job's OIDC token, instead of the
    /// `<Name>_AccessKey` / `<Name>_SecretKey` secrets: the failure teardown, native builtins
    /// (`register --builtins native`) and the reaper then need no key in the repository. The
    /// role's trust policy must allow the repository (`ephflow iam-policy` prints one). Outside
    /// GitHub Actions the usual credentials are used.
    #[serde(rename = "RoleArn", default, skip_serializing_if = "Option::is_none")]
    #[schemars(pattern(ROLE_ARN))]
    pub role_arn: Option<String>,
}

/// `VMConfig.RoleArn`, kept by the provider-independent model among its other keys.
pub fn role_arn(config: &ephflow_core::schema::model::VmConfig) -> Option<&str> {
    config.extra.get("RoleArn").and_then(|v| v.as_str())
}
