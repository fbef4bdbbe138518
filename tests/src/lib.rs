#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: a failed expectation is a failed test

//! Black-box suites shared by every backend: the storage conformance suite (repository ports)
//! and the harness the end-to-end suite drives the real server with. The backend under test is
//! one parameter, `TESSERA_TEST_BACKEND` (see [`backend::TestBackend`]).

pub mod backend;
pub mod blob_conformance;
pub mod conformance;
pub mod files;
pub mod http;
pub mod keyed_creates;
pub mod lambda;
pub mod load;
pub mod login_flood;
pub mod refresh_chains;
pub mod throwaway;
