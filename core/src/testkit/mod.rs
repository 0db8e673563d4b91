//! Test kit (feature `testkit`): building blocks for tests and benchmarks of ephflow and of
//! tools that embed it.

pub mod conformance;
pub mod fake_provider;
pub mod http;
pub mod synthetic;
