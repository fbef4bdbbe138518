//! The end-to-end suite: the real server on port 0 against a fresh database of the backend named
//! by `TESSERA_TEST_BACKEND`, driven over HTTP. Organised by feature.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed expectation is a failed test

mod auth;
mod authorization;
mod backups;
mod brute_force;
mod copies;
mod errors;
mod files;
mod floods;
mod headers;
mod lifecycle;
mod members;
mod posts;
mod projects;
mod retries;
mod sessions;
mod system;
mod tokens;
mod users;
