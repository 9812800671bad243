//! `ferrodose gamma REF EVAL`: gamma index of one RT Dose against another.

use ferrodose_evaluation::{gamma, GammaSettings};
use ferrodose_rtio::{read_rt_dose, write_metaimage};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The reference RT Dose.
    reference: PathBuf,
    /// The evaluated RT Dose (any grid in the same frame of reference).
    evaluated: PathBuf,
    /// Dose difference criterion (%).
    #[arg(long, default_value_t = 2.0)]
    dose_diff: f64,
    /// Distance-to-agreement criterion (mm).
    #[arg(long, default_value_t = 2.0)]
    dta_mm: f64,
    /// Reference points below this % of the reference maximum are not evaluated.
    #[arg(long, default_value_t = 10.0)]
    cutoff: f64,
    /// Normalise the dose difference to the local reference dose (default: global maximum).
    #[arg(long)]
    local: bool,
    /// Search radius in units of the DTA; γ is reported at most this value.
    #[arg(long, default_value_t = 2.0)]
    max_gamma: f64,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Write the γ map (MetaImage, NaN where not evaluated) to this file.
    #[arg(long)]
    map: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), super::Error> {
    for (name, v) in [
        ("--dose-diff", args.dose_diff),
        ("--dta-mm", args.dta_mm),
        ("--max-gamma", args.max_gamma),
    ] {
        if !(v > 0.0 && v.is_finite()) {
            return Err(format!("{name} {v} must be positive").into());
        }
    }
    if !(0.0..100.0).contains(&args.cutoff) {
        return Err(format!("--cutoff {} must be within 0–100 %", args.cutoff).into());
    }
    let reference = read_rt_dose(&args.reference)?;
    let evaluated = read_rt_dose(&args.evaluated)?;
    if reference.frame_of_reference_uid != evaluated.frame_of_reference_uid {
        return Err(format!(
            "{} and {} are on different frames of reference ({} and {})",
            args.reference.display(),
            args.evaluated.display(),
            reference.frame_of_reference_uid,
            evaluated.frame_of_reference_uid
        )
        .into());
    }
    let settings = GammaSettings {
        cutoff_pct: args.cutoff,
        local: args.local,
        max_gamma: args.max_gamma,
        ..GammaSettings::new(args.dose_diff, args.dta_mm)
    };
    let started = std::time::Instant::now();
    let r = gamma(&reference.dose_gy, &evaluated.dose_gy, &settings);
    let seconds = started.elapsed().as_secs_f64();
    if let Some(path) = &args.map {
        write_metaimage(path, &r.gamma)?;
    }
    let kind = if args.local { "local" } else { "global" };
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "criteria": format!("{} %/{} mm {kind}", args.dose_diff, args.dta_mm),
                "cutoff_pct": args.cutoff,
                "evaluated_points": r.evaluated,
                "pass_rate_pct": r.pass_rate_pct,
                "mean_gamma": r.mean,
                "gamma_p1": r.p1,
                "gamma_p99": r.p99,
                "seconds": seconds,
            })
        );
    } else {
        println!(
            "gamma {} %/{} mm {kind}, cut-off {} %: {} points, pass rate {:.2} %, mean {:.3}, \
             1st/99th percentile {:.3}/{:.3} ({seconds:.1} s)",
            args.dose_diff,
            args.dta_mm,
            args.cutoff,
            r.evaluated,
            r.pass_rate_pct,
            r.mean,
            r.p1,
            r.p99
        );
    }
    Ok(())
}
