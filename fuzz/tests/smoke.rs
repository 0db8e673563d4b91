//! Smoke run of every fuzz target: the committed corpus (`fuzz/corpus/<target>/`) and the
//! seed files, then a few seconds of fresh mutations per target (debug build, part of
//! `cargo test --workspace`). Fails on any crash, broken invariant or slow input.

use ephflow_fuzz::{Config, Target, fuzz};
use std::time::Duration;

#[test]
fn every_target_survives_the_corpus_and_fresh_mutations() {
    let dir = std::env::temp_dir().join(format!("ephflow-fuzz-smoke-{}", std::process::id()));
    let mut problems = Vec::new();
    for target in Target::ALL {
        let config = Config {
            duration: Duration::from_secs(7),
            // Only the committed corpus: the seed files are in it or were minimised away.
            seeds: Vec::new(),
            save_corpus: false,
            artifacts_dir: dir.join(target.name()),
            // Fixed: a run explores the same inputs every time (only how far depends on speed).
            rng_seed: 0x5eed,
            max_input_time: Duration::from_secs(20),
            ..Config::new(target)
        };
        let stats = fuzz(&config);
        eprintln!("{stats}");
        assert!(stats.executions > 0, "{stats}");
        for f in stats.failures {
            problems.push(format!(
                "{}: {}: {} (input saved to {})",
                target.name(),
                f.kind,
                f.message,
                f.path.display()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
