//! The Dockerfile of the native-builtin image keeps its promises: multi-stage, the binary built
//! with the lock file, a small Debian runtime (GitHub container jobs need `sh` and `tail`), a
//! non-root user. (Building the image needs a Docker daemon; CI machines here have none.)

mod support;

#[test]
fn the_image_is_multi_stage_small_and_non_root() {
    let text = std::fs::read_to_string(support::root().join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = instructions
        .iter()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    assert!(froms[0].ends_with(" AS build"), "{}", froms[0]);
    assert!(froms[1].contains("-slim"), "a slim runtime: {}", froms[1]);
    assert!(text.contains("cargo build --release --locked --bin ephflow"));
    let runtime: Vec<&&str> = instructions
        .iter()
        .skip_while(|l| **l != *froms[1])
        .collect();
    assert!(
        runtime
            .iter()
            .any(|l| l.starts_with("COPY --from=build") && l.contains("/usr/local/bin/ephflow")),
        "the runtime gets only the binary"
    );
    let user = runtime
        .iter()
        .rev()
        .find(|l| l.starts_with("USER "))
        .expect("the runtime stage sets a user");
    let who = user.trim_start_matches("USER ").trim();
    assert!(who != "root" && who != "0", "runs as {who}");
    let ignore = std::fs::read_to_string(support::root().join(".dockerignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l.trim() == "target/"),
        "the build context skips target/"
    );
}
