//! Runs the blob store conformance suite against the store named by `TESSERA_TEST_BLOB_STORE`
//! (`fs` by default): every case `tests/build.rs` finds, each as a test of its own on an empty store.

use std::process::ExitCode;

use tessera_tests::blob_conformance::{open, CASES};
use tessera_tests::conformance::harness;

fn main() -> ExitCode {
    harness::run(CASES, open)
}
