//! `--help` of every command against committed snapshots, so the docs users read change only
//! on purpose, and `docs/cli.md`, the CLI reference assembled from the same texts (regenerate
//! both with `EPHFLOW_BLESS=1 cargo test --test help`).

mod support;

use assert_cmd::Command;

const COMMANDS: &[&[&str]] = &[
    &[],
    &["validate"],
    &["augment"],
    &["graph"],
    &["plan"],
    &["iam-policy"],
    &["doctor"],
    &["vm"],
    &["vm", "status"],
    &["vm", "start"],
    &["vm", "poll"],
    &["vm", "stop"],
    &["vm", "preflight"],
    &["vm", "reap"],
    &["action"],
    &["action", "run"],
    &["register"],
    &["invoke"],
    &["schema"],
];

#[test]
fn help_texts_match_their_snapshots() {
    let dir = support::root().join("tests/fixtures/help");
    let bless = std::env::var_os("EPHFLOW_BLESS").is_some();
    if bless {
        std::fs::create_dir_all(&dir).unwrap();
    }
    let mut reference = String::from(
        "# CLI reference\n\n<!-- Generated from the clap definitions (`--help` of every command) by\n`cargo test --test help`; do not edit. Regenerate with `EPHFLOW_BLESS=1 cargo test --test help`. -->\n",
    );
    for args in COMMANDS {
        let out = Command::cargo_bin("ephflow")
            .unwrap()
            .args(*args)
            .arg("--help")
            .env("COLUMNS", "100")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).unwrap();
        let name = if args.is_empty() {
            "ephflow".to_owned()
        } else {
            args.join("-")
        };
        reference.push_str(&format!(
            "\n## `{}`\n\n```text\n{text}```\n",
            ["ephflow"]
                .iter()
                .chain(args.iter())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
        ));
        let path = dir.join(format!("{name}.txt"));
        if bless {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == text,
            "`ephflow {} --help` changed; if intended, `EPHFLOW_BLESS=1 cargo test --test help`\n{text}",
            args.join(" ")
        );
    }
    let docs = support::root().join("docs/cli.md");
    if bless {
        std::fs::write(&docs, &reference).unwrap();
    } else {
        assert!(
            std::fs::read_to_string(&docs).unwrap_or_default() == reference,
            "docs/cli.md is stale; `EPHFLOW_BLESS=1 cargo test --test help`"
        );
    }
}

/// Every command the top-level help lists has its own entry above (and so in docs/cli.md).
#[test]
fn every_command_is_documented() {
    let text =
        std::fs::read_to_string(support::root().join("tests/fixtures/help/ephflow.txt")).unwrap();
    let listed: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .collect();
    assert!(listed.len() >= 10, "{listed:?}");
    for command in listed {
        assert!(
            COMMANDS.iter().any(|c| c.first() == Some(&command)),
            "`ephflow {command}` has no help snapshot nor reference entry: add it to COMMANDS"
        );
    }
}
