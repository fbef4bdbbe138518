//! Runs the storage conformance suite against the backend named by `TESSERA_TEST_BACKEND`:
//! every case `tests/build.rs` finds, each as a test of its own on a fresh, migrated database.

use std::process::ExitCode;

use tessera_tests::backend::storage;
use tessera_tests::conformance::{harness, CASES};

fn main() -> ExitCode {
    harness::run(CASES, storage)
}
