//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod dvh;
pub mod evaluate;
pub mod gamma;
pub mod inspect;
pub mod output;
pub mod phantom;
pub mod photon_plan;
pub mod physics;
pub mod progress;
pub mod recalc;
pub mod report;
pub mod rt_plan;
pub mod run;

/// Errors of the runner: any library error, shown with its message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
