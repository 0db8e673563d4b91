//! The least-privilege IAM policy of the VM lifecycle (`ephflow iam-policy`): exactly the EC2
//! calls [`crate::Ec2Provider`] makes, DryRun preflights included (a DryRun is authorised by
//! the action it tries).

use ephflow_core::schema::model::VmConfig;
use serde_json::{Value, json};

/// Actions that can be limited to the instance's ARN: start and stop (also what the
/// failure-teardown step's `aws ec2 stop-instances` sends).
pub const INSTANCE_ACTIONS: &[&str] = &["ec2:StartInstances", "ec2:StopInstances"];

/// Actions that EC2 does not scope to resources, so they need `"Resource": "*"`:
/// DescribeInstanceStatus (state and health checks) and DescribeInstances (the launch time
/// the reaper reads).
pub const DESCRIBE_ACTIONS: &[&str] = &["ec2:DescribeInstanceStatus", "ec2:DescribeInstances"];

/// The AWS partition of a region: ARNs in China and GovCloud regions do not say `aws`.
pub fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else if region.starts_with("us-isob-") {
        "aws-iso-b"
    } else if region.starts_with("us-iso-") {
        "aws-iso"
    } else {
        "aws"
    }
}

/// The IAM policy document that lets ephflow describe, start and stop the instance of
/// `config`; `account` (12 digits) or `*` in the instance ARN. `None` without InstanceId or
/// Region.
pub fn access_policy(config: &VmConfig, account: Option<&str>) -> Option<Value> {
    let instance = config.instance_id.as_deref()?;
    let region = config.region.as_deref()?;
    let arn = format!(
        "arn:{}:ec2:{region}:{}:instance/{instance}",
        partition(region),
        account.unwrap_or("*")
    );
    Some(json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EphflowStartStopTheVm",
                "Effect": "Allow",
                "Action": INSTANCE_ACTIONS,
                "Resource": arn,
            },
            {
                "Sid": "EphflowDescribeInstances",
                "Effect": "Allow",
                "Action": DESCRIBE_ACTIONS,
                "Resource": "*",
            }
        ]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(region: &str) -> VmConfig {
        serde_json::from_value(json!({
            "Name": "VM", "Provider": "AWS", "InstanceId": "i-0123456789abcdef0", "Region": region
        }))
        .unwrap()
    }

    /// `.client` followed by `.operation()` in the provider's source, as IAM action names.
    fn calls_in_provider_source() -> Vec<String> {
        let source = include_str!("provider.rs");
        let mut calls: Vec<String> = source
            .split(".client")
            .skip(1)
            .filter_map(|rest| {
                let rest = rest.trim_start().strip_prefix('.')?;
                let op = rest.split("()").next()?;
                op.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
                    .then(|| {
                        let pascal: String = op
                            .split('_')
                            .map(|w| {
                                let mut c = w.chars();
                                c.next()
                                    .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                                    .unwrap_or_default()
                            })
                            .collect();
                        format!("ec2:{pascal}")
                    })
            })
            .collect();
        calls.sort();
        calls.dedup();
        calls
    }

    #[test]
    fn the_policy_covers_exactly_the_calls_the_provider_makes() {
        let calls = calls_in_provider_source();
        assert!(calls.len() >= 4, "{calls:?}");
        let mut granted: Vec<String> = INSTANCE_ACTIONS
            .iter()
            .chain(DESCRIBE_ACTIONS)
            .map(|a| (*a).to_owned())
            .collect();
        granted.sort();
        assert_eq!(
            granted, calls,
            "a new EC2 call needs its action in the policy"
        );
    }

    #[test]
    fn the_instance_arn_names_partition_region_account_and_instance() {
        let p = access_policy(&config("us-west-2"), Some("123456789012")).unwrap();
        assert_eq!(
            p["Statement"][0]["Resource"],
            "arn:aws:ec2:us-west-2:123456789012:instance/i-0123456789abcdef0"
        );
        assert_eq!(p["Statement"][1]["Resource"], "*");
        let p = access_policy(&config("cn-north-1"), None).unwrap();
        assert_eq!(
            p["Statement"][0]["Resource"],
            "arn:aws-cn:ec2:cn-north-1:*:instance/i-0123456789abcdef0"
        );
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        let mut c = config("us-east-1");
        c.instance_id = None;
        assert!(access_policy(&c, None).is_none());
    }
}
