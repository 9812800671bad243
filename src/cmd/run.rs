//! `ferrodose run PLAN.toml --out DIR`: dose of every plan in a plan file,
//! written as RT Dose files per plan (format: docs/plan-format.md).

use super::output::prepare_dir;
use super::phantom::{phantom_ct, write_phantom};
use ferrodose_gpu::{Backend, DevicePreference, PiecewiseLinear};
use ferrodose_grid::{BeamGeometry, Grid, Mask, Point3, Volume};
use ferrodose_pencil::{BeamSpots, IonBaseData, PencilBeamEngine, Spot};
use ferrodose_plan::{Device, Isocentre, Modality, PlanFile};
use ferrodose_rtio::{write_rt_dose, CtSeries, DoseSummation, DoseType, RtDose, Study};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// The plan file (TOML).
    plan: PathBuf,
    /// Output directory (created; must be empty unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    force: bool,
}

/// Constant proton RBE (the clinical standard).
const PROTON_RBE: f32 = 1.1;

/// The CT and its structures, from a phantom or a DICOM directory.
struct Case {
    ct: CtSeries,
    structures: Vec<(String, Mask)>,
}

impl Case {
    fn structure(&self, name: &str) -> Result<&Mask, super::Error> {
        self.structures
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, m)| m)
            .ok_or_else(|| {
                let names: Vec<&str> = self.structures.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "prescription.target: no structure named '{name}'; the CT has: {}",
                    names.join(", ")
                )
                .into()
            })
    }
}

/// A grid of `spacing_mm` over the CT's extent, with the CT's orientation.
fn dose_grid(ct: &Grid, spacing_mm: f64) -> Result<Grid, super::Error> {
    let shape = [0, 1, 2].map(|a| {
        ((ct.shape()[a] - 1) as f64 * ct.spacing_mm()[a] / spacing_mm).floor() as usize + 1
    });
    Ok(Grid::new(
        shape,
        [spacing_mm; 3],
        ct.origin_mm(),
        [ct.axis(0), ct.axis(1), ct.axis(2)],
    )?)
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let source = args.plan.display().to_string();
    let text =
        std::fs::read_to_string(&args.plan).map_err(|e| format!("{source}: cannot read: {e}"))?;
    let file = PlanFile::parse(&text, &source)?;

    let case = match (&file.ct.phantom, &file.ct.dicom) {
        (Some(name), _) => {
            let built = ferrodose_phantom::Phantom::builtin(name)?.build()?;
            Case {
                ct: phantom_ct(&built),
                structures: built
                    .rois
                    .iter()
                    .map(|(r, m)| (r.name.clone(), m.clone()))
                    .collect(),
            }
        }
        (_, Some(dir)) => {
            let dir = args
                .plan
                .parent()
                .map(|p| p.join(dir))
                .unwrap_or_else(|| dir.clone());
            let study = Study::load(&dir)?;
            let structures = study
                .structures
                .map(|s| {
                    s.structures
                        .into_iter()
                        .map(|st| (st.name, st.mask))
                        .collect()
                })
                .unwrap_or_default();
            Case {
                ct: study.ct,
                structures,
            }
        }
        _ => unreachable!("PlanFile::parse checks that exactly one CT source is given"),
    };
    let target = file
        .prescription
        .as_ref()
        .map(|p| case.structure(&p.target))
        .transpose()?;
    let fractions = file.prescription.as_ref().map_or(1, |p| p.fractions);
    let target_centre = target
        .map(|m| {
            m.centroid_mm()
                .ok_or("prescription.target: the target structure is empty")
        })
        .transpose()?;

    let backend = Backend::select(match file.dose.device {
        Device::Auto => DevicePreference::Auto,
        Device::Gpu => DevicePreference::Gpu,
        Device::Cpu => DevicePreference::Cpu,
    })?;
    if let Backend::Cpu { reason: Some(r) } = &backend {
        eprintln!("note: {r}");
    }
    println!("device: {}", backend.describe());

    // Refuse an existing output before computing anything.
    let occupied = std::fs::read_dir(&args.out).is_ok_and(|mut d| d.next().is_some());
    if occupied && !args.force {
        prepare_dir(&args.out, false)?;
    }

    let knots = ferrodose_physics::calibration::knots(
        5.0,
        ferrodose_physics::calibration::relative_stopping_power,
    );
    let rsp = Volume::from_vec(
        case.ct.hu.grid().clone(),
        PiecewiseLinear::new(knots)?.apply(&backend, case.ct.hu.data())?,
    );
    let grid = dose_grid(case.ct.hu.grid(), file.dose.grid_mm)?;

    // Every plan is computed before anything is written, so a failing plan
    // leaves no partial output behind.
    let mut results = Vec::new();
    for plan in &file.plans {
        if plan.modality != Modality::Proton {
            return Err(format!(
                "plan '{}': {:?} dose is not implemented yet (proton pencil beam only)",
                plan.name, plan.modality
            )
            .into());
        }
        let mut energies: Vec<f64> = plan
            .beams
            .iter()
            .flat_map(|b| b.spots.iter().map(|s| s.energy))
            .collect();
        energies.sort_by(f64::total_cmp);
        energies.dedup_by(|a, b| (*a - *b).abs() < 0.01);
        if energies.is_empty() {
            return Err(format!(
                "plan '{}': no spots (automatic spot placement is not implemented yet)",
                plan.name
            )
            .into());
        }
        let base = IonBaseData::protons(&energies, 0.0, 0.1)?;
        let beams: Vec<BeamSpots> = plan
            .beams
            .iter()
            .map(|b| BeamSpots {
                geometry: BeamGeometry {
                    gantry_deg: b.gantry_deg,
                    couch_deg: b.couch_deg,
                    collimator_deg: b.collimator_deg,
                    isocentre_mm: match &b.isocentre {
                        Isocentre::Point(p) => Point3::from(*p),
                        Isocentre::Named(_) => target_centre
                            .expect("PlanFile::parse checks: \"target\" needs a prescription"),
                    },
                    patient_position: case.ct.info.patient_position,
                },
                sigma_air_mm: b.sigma_air_mm,
                spots: b
                    .spots
                    .iter()
                    .map(|s| Spot {
                        energy_mev_u: s.energy,
                        x_mm: s.x_mm,
                        y_mm: s.y_mm,
                        weight: s.weight,
                    })
                    .collect(),
            })
            .collect();
        let started = std::time::Instant::now();
        let per_fraction = PencilBeamEngine::new(&base, &rsp)
            .dose(&beams, &grid, &backend)
            .map_err(|e| format!("plan '{}': {e}", plan.name))?;
        let physical = per_fraction.map(|d| d * fractions as f32);
        let summary = format!(
            "plan '{}': {} beams, {} spots, {} fractions, max {:.3} Gy ({:.3} Gy(RBE)), {:.1} s",
            plan.name,
            beams.len(),
            beams.iter().map(|b| b.spots.len()).sum::<usize>(),
            fractions,
            physical.min_max().1,
            physical.min_max().1 * PROTON_RBE,
            started.elapsed().as_secs_f64()
        );
        results.push((plan.name.clone(), physical, summary));
    }

    prepare_dir(&args.out, args.force)?;
    if let Some(name) = &file.ct.phantom {
        write_phantom(
            &ferrodose_phantom::Phantom::builtin(name)?.build()?,
            &args.out.join("ct"),
        )?;
    }
    for (name, physical, summary) in results {
        let dir = args.out.join(&name);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let write = |dose: Volume<f32>, kind: DoseType, file: &str, comment: &str| {
            let rt = RtDose {
                dose_gy: dose,
                dose_type: kind,
                summation: DoseSummation::Plan,
                frame_of_reference_uid: case.ct.info.frame_of_reference_uid.clone(),
                referenced_plan_uid: None,
                comment: comment.to_owned(),
                scaling_gy: 0.0,
            };
            write_rt_dose(&dir.join(file), &rt, &case.ct.info)
        };
        write(
            physical.clone(),
            DoseType::Physical,
            "RTDOSE_physical.dcm",
            "dose to water, ferrodose proton pencil beam",
        )?;
        write(
            physical.map(|d| d * PROTON_RBE),
            DoseType::Effective,
            "RTDOSE_rbe.dcm",
            "RBE-weighted dose to water, constant RBE 1.1",
        )?;
        println!("{summary} -> {}", dir.display());
    }
    Ok(())
}
