//! `ferrodose dvh RTDOSE STUDY`: DVHs and dose metrics of any RT Dose (made
//! anywhere) on the structures of its CT's RT Structure Set.

use super::evaluate::{PlanReport, Structures};
use super::output::write_atomic;
use ferrodose_rtio::{read_rt_dose, DoseType, Study};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The RT Dose file.
    rtdose: PathBuf,
    /// The directory with the CT series and RT Structure Set, or the RT
    /// Structure Set file (its directory is read).
    study: PathBuf,
    /// Fractions of the dose, for BED and EQD2 (α/β 10 Gy for targets, 3 Gy otherwise).
    #[arg(long, default_value_t = 1)]
    fractions: u32,
    /// Print the metrics as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Write the cumulative DVHs as CSV to this file.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Dose step of the CSV (Gy).
    #[arg(long, default_value_t = 0.1)]
    step: f64,
}

pub fn run(args: Args) -> Result<(), super::Error> {
    if !(args.step > 0.0 && args.step.is_finite()) {
        return Err(format!("--step {} must be a positive dose in Gy", args.step).into());
    }
    let dose = read_rt_dose(&args.rtdose)?;
    let dir = if args.study.is_file() {
        args.study
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_default()
    } else {
        args.study.clone()
    };
    let study = Study::load(&dir)?;
    if dose.frame_of_reference_uid != study.ct.info.frame_of_reference_uid {
        return Err(format!(
            "{}: Frame of Reference {} differs from the CT's {} in {}",
            args.rtdose.display(),
            dose.frame_of_reference_uid,
            study.ct.info.frame_of_reference_uid,
            dir.display()
        )
        .into());
    }
    let set = study
        .structures
        .ok_or_else(|| format!("{}: no RT Structure Set found", dir.display()))?;
    let structures = Structures::new(
        set.structures
            .into_iter()
            .map(|s| (s.name, s.mask))
            .collect(),
        study.ct.hu.grid(),
        None,
        &BTreeMap::new(),
    )?;
    let unit = match dose.dose_type {
        DoseType::Effective => "Gy(RBE)",
        DoseType::Physical => "Gy",
    };
    let report = PlanReport::new(
        &args.rtdose.display().to_string(),
        "unknown",
        unit,
        &dose.dose_gy,
        &structures,
        None,
        args.fractions,
        "CPU",
        0.0,
    );
    if let Some(path) = &args.csv {
        write_atomic(path, report.dvh_csv(args.step).as_bytes())?;
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }
    println!(
        "{:<16} {:>10} {:>9} {:>9} {:>9} {:>9} {:>9}   ({unit}; max = D0.03cc)",
        "structure", "volume cc", "min", "mean", "max", "D95", "D2"
    );
    for s in &report.structures {
        println!(
            "{:<16} {:>10.2} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>9.3}",
            s.name, s.volume_cc, s.min_gy, s.mean_gy, s.max_gy, s.d95_gy, s.d2_gy
        );
    }
    Ok(())
}
