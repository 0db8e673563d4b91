//! The generated reference documents are current: `docs/vmconfig.md` from the JSON Schema
//! (regenerate with `EPHFLOW_BLESS=1 cargo test --test docs`); `docs/cli.md` is checked by the
//! help test. And every relative link in docs/ and the README points at a file that exists.

mod support;

#[test]
fn the_vmconfig_reference_matches_the_schema() {
    support::link_plugins();
    let text = ephflow::docs::vmconfig_reference().unwrap();
    let path = support::root().join("docs/vmconfig.md");
    if std::env::var_os("EPHFLOW_BLESS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == text,
        "docs/vmconfig.md is stale; `EPHFLOW_BLESS=1 cargo test --test docs`"
    );
    for kind in ephflow::SHIPPED_PROVIDERS {
        assert!(
            text.contains(&format!("## `Provider: \"{kind}\"`")),
            "{kind} documented"
        );
    }
}

#[test]
fn relative_links_resolve() {
    let root = support::root();
    let mut files = vec![root.join("README.md")];
    for entry in std::fs::read_dir(root.join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or("");
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = file.parent().unwrap().join(target);
            assert!(
                resolved.exists(),
                "{}: the link {target} does not resolve",
                file.display()
            );
        }
    }
}
