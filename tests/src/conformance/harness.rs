//! Runs the conformance cases as a test binary (`harness = false`) that looks like libtest to
//! `cargo test` and nextest: one test per case, named after it, filtered and listed as usual.

use std::future::Future;
use std::process::ExitCode;

use futures::future::LocalBoxFuture;
use libtest_mimic::{Arguments, Failed, Trial};

/// One conformance case of the port `P`: its path from its suite's module (`users::…`) and the
/// function itself.
pub struct Case<P: ?Sized + 'static> {
    pub name: &'static str,
    pub run: for<'a> fn(&'a P) -> LocalBoxFuture<'a, ()>,
}

/// Runs every case of `cases` on a port of its own: `open` is called once per case and what it
/// returns lives until the case ends (a backend's crate passes its own).
pub fn run<P, Open, Opened, S>(cases: &'static [Case<P>], open: Open) -> ExitCode
where
    P: ?Sized + 'static,
    Open: Fn() -> Opened + Clone + Send + 'static,
    Opened: Future<Output = S>,
    S: AsRef<P>,
{
    let arguments = Arguments::from_args();
    let trials = cases
        .iter()
        .map(|case| {
            let open = open.clone();
            Trial::test(case.name, move || run_one(case, open))
        })
        .collect();
    libtest_mimic::run(&arguments, trials).exit_code()
}

/// On a runtime of its own, like `#[tokio::test]`: cases run concurrently on separate threads.
fn run_one<P, Open, Opened, S>(case: &Case<P>, open: Open) -> Result<(), Failed>
where
    P: ?Sized + 'static,
    Open: Fn() -> Opened,
    Opened: Future<Output = S>,
    S: AsRef<P>,
{
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(async {
        let storage = open().await;
        (case.run)(storage.as_ref()).await;
    });
    Ok(())
}
