//! `ferrodose recalc RTPLAN.dcm --ct DIR --out DIR`: the dose of a DICOM RT
//! Plan (photon) or RT Ion Plan made by another system, on its CT, written as
//! `ferrodose run` writes a plan (RT Dose, DVH and metrics when the CT
//! directory holds an RT Structure Set, report).

use ferrodose_plan::{CtSource, Device, DoseSettings, Plan, PlanFile};
use ferrodose_rtio::RtPlan;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The RT Plan or RT Ion Plan file.
    rtplan: PathBuf,
    /// Directory with the plan's CT series (and optionally its RT Structure Set).
    #[arg(long)]
    ct: PathBuf,
    /// Output directory (created; must be empty unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    force: bool,
    /// Dose grid spacing (mm).
    #[arg(long, default_value_t = 3.0)]
    grid_mm: f64,
    /// auto, gpu or cpu.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Particles per MU of the nozzle, for an RT Ion Plan whose meterset is in MU.
    #[arg(long)]
    particles_per_mu: Option<f64>,
    /// The machine file: an ion nozzle (energy range, spot size, energy
    /// spread, virtual source) or a photon linac (`docs/plan-format.md`);
    /// without it the generic machine of the plan's modality (for photons,
    /// of its beam quality: 6 MV or 10 MV FFF).
    #[arg(long)]
    machine: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let rt = RtPlan::read(&args.rtplan)?;
    let modality = super::rt_plan::modality(&rt)?;
    let device = match args.device.as_str() {
        "auto" => Device::Auto,
        "gpu" => Device::Gpu,
        "cpu" => Device::Cpu,
        other => return Err(format!("--device {other}: use auto, gpu or cpu").into()),
    };
    // The label names the output folder: keep letters, digits, '_' and '-'.
    let name: String = rt
        .label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let file = PlanFile {
        ct: CtSource {
            phantom: None,
            dicom: Some(args.ct),
        },
        prescription: None,
        dose: DoseSettings {
            grid_mm: args.grid_mm,
            device,
            ..DoseSettings::default()
        },
        alpha_beta_gy: Default::default(),
        objectives: Vec::new(),
        plans: vec![Plan {
            name: if name.is_empty() {
                "rtplan".into()
            } else {
                name
            },
            modality,
            beams: Vec::new(),
            arcs: Vec::new(),
            rtplan: Some(args.rtplan),
            particles_per_mu: args.particles_per_mu,
            fluence: None,
            machine: args.machine,
        }],
    };
    file.check("recalc arguments")?;
    super::run::run_plan_file(&file, std::path::Path::new(""), &args.out, args.force)
}
