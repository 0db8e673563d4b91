//! Test kit (feature `testkit`): building blocks for tests and benchmarks of ephflow and of
//! tools that embed it.

pub mod synthetic;
