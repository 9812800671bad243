//! Progress on stderr for the long steps of a run (influence matrices,
//! optimisation, dose on the whole grid). indicatif draws only on a terminal,
//! so logs and tests see nothing of it.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A bar over `iterations` optimiser iterations, labelled `what`.
pub fn iterations(iterations: usize, what: &str) -> ProgressBar {
    let bar = ProgressBar::new(iterations as u64).with_message(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {pos}/{len} iterations, {elapsed} (ETA {eta})",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar
}

/// A spinner with the elapsed time for a step of unknown length, labelled `what`.
pub fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(what.to_owned());
    bar.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template"),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}

/// Runs `step` under a spinner labelled `what`, cleared when it ends.
pub fn with_spinner<T>(what: &str, step: impl FnOnce() -> T) -> T {
    let bar = spinner(what);
    let out = step();
    bar.finish_and_clear();
    out
}
