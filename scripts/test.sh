#!/usr/bin/env bash
# The project's test command (README): installs what the tests need, then runs the formatting
# check, clippy with warnings denied, and every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -r tests/python/requirements.txt

# Headless Chromium lays out the `ephflow plan` chart in tests/cli_plan.rs (Debian's package).
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi

# The committed snapshots of rendered GitHub workflows must satisfy GitHub's workflow schema.
check-jsonschema --builtin-schema vendor.github-workflows tests/fixtures/register/*/*.yml

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
