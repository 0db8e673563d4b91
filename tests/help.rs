//! `--help` of every command against committed snapshots, so the docs users read change only
//! on purpose (regenerate with `EPHFLOW_BLESS=1 cargo test --test help`).

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
}
