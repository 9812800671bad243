//! Helpers shared by the integration tests that call independent Python tools.

use std::process::Command;

/// Whether python3 can import `modules` (comma-separated); when it cannot and
/// the environment variable `require` is "1" (as `.ci/run` sets it), panics so
/// that CI cannot pass by skipping.
pub fn python_has(modules: &str, require: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var(require).as_deref() == Ok("1") {
        panic!("{require}=1 but python3 cannot import {modules}");
    }
    if !ok {
        eprintln!("skipped: python3 cannot import {modules}");
    }
    ok
}
