//! `ephflow iam-policy`: the least-privilege access policy of the VM lifecycle, from the VM
//! provider's plugin, plus the trust policy that lets the workflow's GitHub repositories
//! assume a role with it through GitHub's OIDC tokens.

use std::path::PathBuf;

use super::stdout::out;
use clap::Args;
use ephflow::exit::Exit;
use ephflow::schema::model::{FaaSType, Workflow};
use serde_json::{Value, json};

/// Print the least-privilege IAM policy for the VM lifecycle of a workflow's VMConfig, and a
/// trust policy for GitHub's OIDC tokens.
///
/// The output is JSON: `policy` (what the VM provider's calls need: AWS `ec2:StartInstances`,
/// `ec2:StopInstances` on the instance, `ec2:DescribeInstanceStatus`, `ec2:DescribeInstances`
/// on `*`, which EC2 cannot scope) and `trust_policy` (`sts:AssumeRoleWithWebIdentity` from
/// `token.actions.githubusercontent.com`, audience `sts.amazonaws.com`, subject
/// `repo:<owner>/<repo>:ref:refs/heads/<Branch>` for each GitHubActions server of the
/// workflow: any job of the repository that runs on that branch and may request an OIDC
/// token (`id-token: write`), and no other branch. A scheduled reaper runs on the default
/// branch: add that subject when Branch is another).
///
/// Exit codes: 0 printed, 1 invalid workflow, no VMConfig or no policy for its provider,
/// 5 the output could not be written.
#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The workflow whose VMConfig describes the VM.
    file: PathBuf,
    /// The AWS account id (12 digits) that owns the instance and the OIDC provider [default:
    /// the account of VMConfig.RoleArn, else `*` in the policy and `ACCOUNT_ID` in the trust
    /// policy].
    #[arg(long, value_name = "ID", value_parser = account_id)]
    account: Option<String>,
    /// Write the policies to this file (atomically) instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_owned())
    } else {
        Err("an AWS account id is 12 digits".into())
    }
}

/// GitHub's OIDC token issuer (github.com; GitHub Enterprise Server has its own).
const GITHUB_OIDC: &str = "token.actions.githubusercontent.com";

/// The OIDC subject of every GitHubActions server's jobs, once each, in file order:
/// `repo:<owner>/<repo>:ref:refs/heads/<Branch>` (Branch defaults to `main`), the `sub` claim
/// of a `workflow_dispatch` run on that branch. VM-era jobs (the lifecycle actions, failure
/// teardowns, the reaper) may run on any of these servers, so each may need the role. A name
/// outside GitHub's character set is refused: in `StringLike`, `*` and `?` are wildcards and
/// would widen the trust.
pub fn github_subjects(workflow: &Workflow) -> Result<Vec<String>, String> {
    let mut subjects: Vec<String> = Vec::new();
    for (name, server) in &workflow.compute_servers {
        if server.faas_type != FaaSType::GitHubActions {
            continue;
        }
        let (Some(owner), Some(repo)) = (&server.user_name, &server.action_repo_name) else {
            continue;
        };
        let branch = server.branch.as_deref().unwrap_or("main");
        let ok = |s: &str, extra: &[u8]| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || extra.contains(&b))
        };
        if !ok(owner, b"") || !ok(repo, b"._") {
            return Err(format!(
                "ComputeServers.{name}: \"{owner}/{repo}\" is not a GitHub repository name (letters, digits, '-', and '.' or '_' in the repository part)"
            ));
        }
        if !ok(branch, b"._/+@") {
            return Err(format!(
                "ComputeServers.{name}: Branch \"{branch}\" has characters a trust policy cannot match literally (letters, digits and - . _ / + @ only)"
            ));
        }
        let subject = format!("repo:{owner}/{repo}:ref:refs/heads/{branch}");
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    Ok(subjects)
}

/// The trust policy for GitHub's OIDC tokens with one of `subjects`, in `partition`.
fn trust_policy(subjects: &[String], account: &str, partition: &str) -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "GitHubActionsOidc",
            "Effect": "Allow",
            "Principal": {
                "Federated": format!("arn:{partition}:iam::{account}:oidc-provider/{GITHUB_OIDC}")
            },
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {format!("{GITHUB_OIDC}:aud"): "sts.amazonaws.com"},
                "StringLike": {format!("{GITHUB_OIDC}:sub"): subjects}
            }
        }]
    })
}

/// The partition of the first ARN in a policy (`aws` when it names none): the OIDC provider
/// lives in the same partition as the resources.
fn partition_of(policy: &Value) -> String {
    fn first_arn(v: &Value) -> Option<&str> {
        match v {
            Value::String(s) if s.starts_with("arn:") => Some(s),
            Value::Array(items) => items.iter().find_map(first_arn),
            Value::Object(map) => map.values().find_map(first_arn),
            _ => None,
        }
    }
    first_arn(policy)
        .and_then(|arn| arn.split(':').nth(1))
        .unwrap_or("aws")
        .to_owned()
}

pub fn run(args: IamPolicyArgs) -> Exit {
    let file = args.file.display().to_string();
    let (_, workflow) = match super::load_valid(&args.file, true, "no policy printed") {
        Ok(loaded) => loaded,
        Err(exit) => return exit,
    };
    let Some(config) = workflow.vm_config.as_ref() else {
        eprintln!(
            "error: {file} has no VMConfig: there is no VM to write a policy for; add one (see `ephflow schema`)"
        );
        return Exit::InvalidInput;
    };
    let registration = match ephflow::core::registry::provider(&config.provider) {
        Ok(Some(r)) => r,
        Ok(None) => {
            eprintln!(
                "error: VMConfig.Provider \"{}\" is not a registered VM provider",
                config.provider
            );
            return Exit::InvalidInput;
        }
        Err(e) => return super::internal(e),
    };
    // The role the jobs assume names its account: the instance is meant to be in it too.
    let role = ephflow::aws::role_arn(config);
    let role_account = role
        .and_then(|r| r.split(':').nth(4))
        .and_then(|a| account_id(a).ok());
    if let (Some(given), Some(role)) = (&args.account, &role_account)
        && given != role
    {
        eprintln!(
            "warning: --account {given} differs from the account of VMConfig.RoleArn ({role}): the policies name {given}; the role must be in the account whose OIDC provider the trust policy names"
        );
    }
    let account = args.account.clone().or(role_account);
    let Some(policy) = (registration.access_policy)(config, account.as_deref()) else {
        eprintln!(
            "error: the {} provider writes no access policy for VMConfig \"{}\" (it needs the fields that name the VM, such as InstanceId and Region)",
            config.provider, config.name
        );
        return Exit::InvalidInput;
    };
    let repos = match github_subjects(&workflow) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::InvalidInput;
        }
    };
    let trust = if repos.is_empty() {
        eprintln!(
            "note: {file} has no GitHubActions server: no trust policy (trust_policy is null)"
        );
        Value::Null
    } else {
        trust_policy(
            &repos,
            account.as_deref().unwrap_or("ACCOUNT_ID"),
            &partition_of(&policy),
        )
    };
    if args.account.is_none()
        && let Some(account) = &account
    {
        eprintln!("note: the account is {account}, taken from VMConfig.RoleArn");
    }
    if role.is_some() && !repos.is_empty() {
        eprintln!(
            "note: the scheduled reaper runs on each repository's default branch: if that is not the server's Branch, add its subject (repo:<owner>/<repo>:ref:refs/heads/<default branch>) to the trust policy"
        );
    }
    if account.is_none() {
        eprintln!(
            "note: without --account, `*` stands for the account in the policy's ARNs and ACCOUNT_ID in the trust policy (a trust policy cannot use a wildcard): pass --account or replace it"
        );
    }
    let out = json!({"policy": policy, "trust_policy": trust});
    let text = ephflow::schema::document::to_pretty_string(&out);
    match args.output {
        None => {
            out!("{text}");
            Exit::Success
        }
        Some(path) => match ephflow::io::write_atomic(&path, text.as_bytes(), &[&args.file]) {
            Ok(()) => {
                eprintln!("wrote the policies to {}", path.display());
                Exit::Success
            }
            Err(e) => super::write_failed(&e),
        },
    }
}
