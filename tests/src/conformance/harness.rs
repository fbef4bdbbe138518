//! Runs the conformance cases as a test binary (`harness = false`) that looks like libtest to
//! `cargo test` and nextest: one test per case, named after it, filtered and listed as usual.

use std::future::Future;
use std::process::ExitCode;

use application::ports::Storage;
use libtest_mimic::{Arguments, Failed, Trial};

use super::{Case, CASES};

/// Runs every case in [`CASES`] on a storage of its own: `open` is called once per case and
/// what it returns lives until the case ends (a backend's crate passes its own).
pub fn run<Open, Opened, S>(open: Open) -> ExitCode
where
    Open: Fn() -> Opened + Clone + Send + 'static,
    Opened: Future<Output = S>,
    S: AsRef<dyn Storage>,
{
    let arguments = Arguments::from_args();
    let trials = CASES
        .iter()
        .map(|case| {
            let open = open.clone();
            Trial::test(case.name, move || run_one(case, open))
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// On a runtime of its own, like `#[tokio::test]`: cases run concurrently on separate threads.
fn run_one<Open, Opened, S>(case: &Case, open: Open) -> Result<(), Failed>
where
    Open: Fn() -> Opened,
    Opened: Future<Output = S>,
    S: AsRef<dyn Storage>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let storage = open().await;
        (case.run)(storage.as_ref()).await;
    });
    Ok(())
}
