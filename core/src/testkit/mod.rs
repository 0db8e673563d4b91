//! Test kit (feature `testkit`): building blocks for tests and benchmarks of ephflow and of
//! tools that embed it.

pub mod conformance;
pub mod fake_provider;
pub mod http;
pub mod memory_store;
pub mod moto;
pub mod synthetic;

/// Reports a missing test prerequisite (a corpus, a tool): under CI (`CI=true`) the test fails,
/// elsewhere it says so loudly and the caller skips.
pub fn missing(what: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{what} is missing, and CI=true: this test must not be skipped");
    }
    eprintln!("\n!!! SKIPPED: {what} is missing (this would fail under CI=true) !!!\n");
}
