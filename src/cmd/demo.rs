//! `ferrodose demo --out DIR`: the built-in default, no files needed. It runs
//! `examples/liver_three_modalities.toml` (embedded): a 9-beam 6 MV photon
//! IMRT plan, a 2-beam proton and a 2-beam carbon plan on the generated liver
//! phantom, 50 Gy(RBE) in 5 fractions to the PTV, compared side by side.

use ferrodose_plan::PlanFile;
use std::path::PathBuf;

const DEMO_PLAN: &str = include_str!("../../examples/liver_three_modalities.toml");

#[derive(clap::Args)]
pub struct Args {
    /// Output directory (created; must be empty unless --force).
    #[arg(long, default_value = "out/demo")]
    out: PathBuf,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    force: bool,
    /// Dose grid spacing (mm); coarser is faster (4 mm: about 2 minutes on
    /// 2 CPU cores; 3 mm: longer).
    #[arg(long, default_value_t = 4.0)]
    grid_mm: f64,
    /// Optimiser iterations.
    #[arg(long, default_value_t = 300)]
    iterations: usize,
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let mut file = PlanFile::parse(
        DEMO_PLAN,
        "built-in demo (examples/liver_three_modalities.toml)",
    )?;
    file.dose.grid_mm = args.grid_mm;
    file.dose.iterations = args.iterations;
    file.check("--grid-mm/--iterations")?;
    println!(
        "demo: photon IMRT, proton and carbon plans on the built-in liver phantom, 50 Gy(RBE) \
         in 5 fractions to the PTV ({} mm grid, {} iterations)",
        args.grid_mm, args.iterations
    );
    super::run::run_plan_file(&file, std::path::Path::new("."), &args.out, args.force)
}
