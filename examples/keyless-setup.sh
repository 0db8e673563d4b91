#!/bin/sh
# Creates what keyless runs need in an AWS account (docs/guide.md, "No VM keys"), from
# `ephflow iam-policy`: GitHub's OIDC identity provider (once per account), a role that the
# workflow's repositories may assume on their Branch, and the lifecycle policy on that role.
# Prints the role's ARN once all is in place: put it in VMConfig.RoleArn, then `ephflow
# augment` and `ephflow register --builtins native --builtin-image IMAGE`.
#
# Usage: examples/keyless-setup.sh WORKFLOW ACCOUNT_ID ROLE_NAME
# ROLE_NAME is new (one role per workflow; the script refuses an existing one).
# Needs: ephflow, the AWS CLI with credentials that may administer IAM, jq.
set -eu
if [ $# -ne 3 ]; then
    echo "usage: $0 WORKFLOW ACCOUNT_ID ROLE_NAME" >&2
    exit 2
fi
workflow=$1
account=$2
role=$3

policies=$(ephflow iam-policy "$workflow" --account "$account")
# The identity provider's ARN, in the instance's partition, as the trust policy names it.
provider=$(printf '%s' "$policies" | jq -er '.trust_policy.Statement[0].Principal.Federated')
if ! aws iam get-open-id-connect-provider --open-id-connect-provider-arn "$provider" >/dev/null 2>&1; then
    # AWS no longer checks the thumbprint for GitHub's provider; older CLIs still ask for one.
    aws iam create-open-id-connect-provider \
        --url https://token.actions.githubusercontent.com \
        --client-id-list sts.amazonaws.com \
        --thumbprint-list 6938fd4d98bab03faadb97b34396831e3780aea1 >/dev/null
fi
arn=$(aws iam create-role --role-name "$role" \
    --assume-role-policy-document "$(printf '%s' "$policies" | jq -c .trust_policy)" \
    --query Role.Arn --output text)
aws iam put-role-policy --role-name "$role" --policy-name ephflow-vm-lifecycle \
    --policy-document "$(printf '%s' "$policies" | jq -c .policy)"
echo "$arn"
