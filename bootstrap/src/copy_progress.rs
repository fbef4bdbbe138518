//! `tessera copy`'s progress on stderr: a bar with counts, rate and ETA on a terminal; plain lines
//! otherwise (a log, a pipe) — at most one a second, and one as each kind ends.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use application::copy::CopyProgress;
use domain::records::RecordKind;
use indicatif::{ProgressBar, ProgressState, ProgressStyle};

const BAR: &str = "{msg:24} [{wide_bar}] {human_pos}/{human_len} {rate} records/s  ETA {eta}";

pub struct Progress {
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

struct State {
    started: Instant,
    totals: Vec<(RecordKind, u64)>,
    /// Records of the kinds that have ended.
    ended: u64,
    /// The kind under way and how many of it are done.
    current: Option<(RecordKind, u64)>,
    /// When the last line was printed, and for which kind and count.
    last_line: Option<(Instant, RecordKind, u64)>,
}

impl State {
    fn total(&self) -> u64 {
        self.totals.iter().map(|(_, n)| n).sum()
    }

    fn of(&self, kind: RecordKind) -> u64 {
        self.totals.iter().find(|(k, _)| *k == kind).map_or(0, |(_, n)| *n)
    }

    fn done(&self) -> u64 {
        self.ended + self.current.map_or(0, |(_, done)| done)
    }

    /// The plain line for where the copy is.
    fn line(&self, kind: RecordKind, done: u64) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
        let (all, total) = (self.done(), self.total());
        let rate = all as f64 / elapsed;
        let eta = if rate > 0.0 { total.saturating_sub(all) as f64 / rate } else { 0.0 };
        format!(
            "copy: {:<9} {done:>9} of {:<9} all {all:>9} of {total:<9} {rate:>8.0} records/s  ETA {eta:.0} s",
            kind.as_str(),
            self.of(kind),
        )
    }
}

impl Progress {
    /// A bar when stderr is a terminal, lines otherwise.
    pub fn on_stderr() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template(BAR) {
                let rate = |state: &ProgressState, out: &mut dyn std::fmt::Write| {
                    let _ = write!(out, "{:.0}", state.per_sec());
                };
                bar.set_style(style.with_key("rate", rate).progress_chars("=> "));
            }
            bar
        });
        let state = State { started: Instant::now(), totals: Vec::new(), ended: 0, current: None, last_line: None };
        Self { bar, state: Mutex::new(state) }
    }

    /// The copy ended: the bar stays where the copy got (`abandon`: `finish` would fill it, even
    /// for a copy that failed or counts that were an estimate); the last kind gets its line.
    pub fn finish(&self) {
        let Ok(state) = self.state.lock() else { return };
        if let Some(bar) = &self.bar {
            bar.abandon();
            // The report follows on stdout, below the bar rather than after it.
            say("");
        } else if let Some((kind, done)) = state.current {
            if state.last_line.is_none_or(|(_, k, n)| (k, n) != (kind, done)) {
                say(&state.line(kind, done));
            }
        }
    }
}

impl CopyProgress for Progress {
    fn begin(&self, totals: &[(RecordKind, u64)]) {
        let Ok(mut state) = self.state.lock() else { return };
        state.totals = totals.to_vec();
        state.started = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_length(state.total());
            bar.reset_eta();
        }
    }

    fn advanced(&self, kind: RecordKind, done: u64) {
        let Ok(mut state) = self.state.lock() else { return };
        let now = Instant::now();
        if let Some((previous, finished)) = state.current.filter(|(k, _)| *k != kind) {
            let printed = state.last_line.is_some_and(|(_, k, n)| (k, n) == (previous, finished));
            if self.bar.is_none() && !printed {
                say(&state.line(previous, finished));
                state.last_line = Some((now, previous, finished));
            }
            state.ended += finished;
        }
        state.current = Some((kind, done));
        match &self.bar {
            Some(bar) => {
                bar.set_message(format!("{} {done}/{}", kind.as_str(), state.of(kind)));
                bar.set_position(state.done());
            }
            None => {
                if state.last_line.is_none_or(|(last, _, _)| now.duration_since(last) >= Duration::from_secs(1)) {
                    say(&state.line(kind, done));
                    state.last_line = Some((now, kind, done));
                }
            }
        }
    }
}

/// A line on stderr; a closed stderr (`tessera copy 2>&1 | head`) stops the progress, not the copy.
fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
