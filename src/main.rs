//! `ferrodose`: the command-line runner.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// ferrodose: radiotherapy dose engine for photons, protons and carbon ions.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write a built-in phantom (water, slab, liver) as a CT series and RT Structure Set.
    Phantom(cmd::phantom::Args),
    /// Import the CT series and RT Structure Set of a directory and describe them.
    Inspect(cmd::inspect::Args),
    /// Physics tables (stopping power, CSDA range, photon coefficients, CT calibration).
    Physics(cmd::physics::Args),
    /// Compute the dose of every plan in a plan file and write RT Dose files.
    Run(cmd::run::Args),
    /// Recalculate a DICOM RT Plan (photon) or RT Ion Plan on its CT.
    Recalc(cmd::recalc::Args),
    /// The built-in default: ion plans on the generated liver phantom, compared.
    Demo(cmd::demo::Args),
    /// Time the ion and photon dose kernels on CPU and GPU and check their parity.
    Bench(cmd::bench::Args),
    /// DVHs and dose metrics of an RT Dose on its CT's RT Structure Set.
    Dvh(cmd::dvh::Args),
    /// Gamma index of one RT Dose against another.
    Gamma(cmd::gamma::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Phantom(a) => cmd::phantom::run(a),
        Command::Inspect(a) => cmd::inspect::run(a),
        Command::Physics(a) => cmd::physics::run(a),
        Command::Run(a) => cmd::run::run(a),
        Command::Recalc(a) => cmd::recalc::run(a),
        Command::Demo(a) => cmd::demo::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Dvh(a) => cmd::dvh::run(a),
        Command::Gamma(a) => cmd::gamma::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
