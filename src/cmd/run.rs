//! `ferrodose run PLAN.toml --out DIR`: dose of every plan in a plan file,
//! written as RT Dose files per plan (format: docs/plan-format.md).

use super::calibrated;
use super::evaluate::{compare, PlanReport, Structures, NORMAL_LIVER};
use super::output::prepare_dir;
use super::phantom::{phantom_ct, write_phantom};
use super::photon_plan::{optimise_with_bar, photon_plan, PhotonSetup};
use super::progress;
use super::report::write_report;
use super::rt_plan;
use ferrodose_evaluation::Dvh;
use ferrodose_gpu::{Backend, DevicePreference};
use ferrodose_grid::{BeamGeometry, Grid, Mask, Point3, Volume};
use ferrodose_optimise::{objective_voxels, uniform_start, Objective};
use ferrodose_pencil::{
    distinct_energies, influence_matrix_coarse_tail, place_spots, BeamSpots, IonBaseData,
    PencilBeamEngine, PlacementSettings, Quantity, RbeModel, Spot, SAME_ENERGY_MEV_U,
};
use ferrodose_photon::{PhotonEngine, PhotonMachine};
use ferrodose_physics::calibration::{relative_electron_density, relative_stopping_power};
use ferrodose_physics::photon_spectrum::PhotonBeam;
use ferrodose_physics::{Ion, Material, RangeTable};
use ferrodose_plan::{
    Device, DoseSettings, IonMachine, Isocentre, Modality, ObjectiveDef, ObjectiveKind, Plan,
    PlanFile, Prescription,
};
use ferrodose_rtio::{
    write_metaimage, write_rt_dose, CtSeries, DoseSummation, DoseType, RtDose, RtPlanBeams, Study,
};
use std::path::{Path, PathBuf};

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

/// Below this relative stopping power a voxel is air and gets no reported dose.
const AIR_RSP: f32 = 0.05;
/// An ion beam of the plan file before its spots are split into energy layers.
struct PlanBeam {
    geometry: BeamGeometry,
    /// The beam's own spot σ in air (mm), overriding the machine's.
    sigma_air_mm: Option<f64>,
    virtual_source_mm: Option<f64>,
    spots: Vec<Spot>,
}

impl PlanBeam {
    /// One `BeamSpots` per energy layer, each with its spot σ in air: the
    /// beam's own, or the machine's at the layer's energy.
    fn layers(self, machine: &IonMachine) -> Vec<BeamSpots> {
        let mut layers: Vec<BeamSpots> = Vec::new();
        for spot in self.spots {
            match layers
                .iter_mut()
                .find(|l| (l.spots[0].energy_mev_u - spot.energy_mev_u).abs() < SAME_ENERGY_MEV_U)
            {
                Some(layer) => layer.spots.push(spot),
                None => layers.push(BeamSpots {
                    geometry: self.geometry,
                    sigma_air_mm: self
                        .sigma_air_mm
                        .unwrap_or_else(|| machine.sigma_air_mm(spot.energy_mev_u)),
                    virtual_source_mm: self.virtual_source_mm,
                    spots: vec![spot],
                }),
            }
        }
        layers
    }
}

/// The machine of ion plan `index`: its machine file (relative to `base_dir`)
/// or the modality's generic nozzle, checked against the plan's spots.
fn ion_machine(file: &PlanFile, index: usize, base_dir: &Path) -> Result<IonMachine, super::Error> {
    let plan = &file.plans[index];
    let machine = match &plan.machine {
        Some(path) => IonMachine::load(&base_dir.join(path))?,
        None => IonMachine::generic(plan.modality).ok_or("not an ion modality")?,
    };
    file.check_machine(index, &machine, "plan file")?;
    Ok(machine)
}

/// What spot weights are optimised for: the target's RBE-weighted dose per
/// fraction (Gy(RBE), with each depth's RBE) and the organs' objectives.
struct SpotGoal<'a> {
    /// The target on the dose grid.
    target: &'a Mask,
    goal_gy: f64,
    /// The target's objectives ([`target_point_objectives`]).
    target_objectives: Vec<Objective>,
    organ_objectives: Vec<Objective>,
}

/// The machine of photon plan `plan`: a built-in machine by name
/// (`generic_6mv`, `generic_10mv_fff`), its machine file (relative to
/// `base_dir`) or, when it names none, the generic machine of `beam`.
fn photon_machine(
    plan: &Plan,
    base_dir: &Path,
    beam: PhotonBeam,
) -> Result<PhotonMachine, super::Error> {
    Ok(match &plan.machine {
        Some(name) => match name.to_str().and_then(PhotonMachine::builtin) {
            Some(machine) => machine,
            None => PhotonMachine::load(&base_dir.join(name))?,
        },
        None => PhotonMachine::generic(beam),
    })
}

/// Optimises the spot weights of `beams` for `goal` over `dose.iterations`
/// on `backend`: the target's squared deviation from the goal, plus stronger
/// penalties below 97 % and above 104 % of it, and the organs' objectives.
/// The influence matrix holds the spots' lateral tail on a lattice of
/// `dose.ion_tail_lattice_mm` (0: on the dose grid).
fn optimise_weights(
    engine: &PencilBeamEngine,
    beams: &mut [BeamSpots],
    grid: &Grid,
    goal: SpotGoal,
    dose: &DoseSettings,
    backend: &Backend,
) -> Result<(), super::Error> {
    let iterations = dose.iterations;
    let SpotGoal {
        target,
        goal_gy,
        target_objectives,
        organ_objectives,
    } = goal;
    let objectives: Vec<Objective> = target_objectives
        .into_iter()
        .chain(organ_objectives)
        .collect();
    let mut input = engine.kernel_input(beams, grid, backend)?;
    input.depth_table = engine
        .base
        .kernel_table(Quantity::RbeWeightedDose, engine.lateral_cutoff_fraction);
    // Rows for the target and for every voxel an objective looks at.
    let mut keep = target.data().to_vec();
    for v in objective_voxels(&objectives) {
        keep[v as usize] = true;
    }
    let a = progress::with_spinner(
        &format!("influence matrix of {} spots", input.spots.len()),
        || influence_matrix_coarse_tail(&input, grid, &keep, dose.ion_tail_lattice_mm, backend),
    )?;
    let voxels = target.voxel_indices();
    if voxels.is_empty() {
        return Err("the target has no voxel on the dose grid".into());
    }
    let start = uniform_start(&a, &voxels, goal_gy);
    eprintln!(
        "optimising {} spots over {} target and {} other voxels ({} influence entries, {:.0} MB), {iterations} iterations",
        a.n_columns(),
        target.count(),
        keep.iter().filter(|k| **k).count() - target.count(),
        a.nnz(),
        a.bytes() as f64 / 1e6
    );
    let result = optimise_with_bar(
        &a,
        backend,
        &objectives,
        start,
        iterations,
        "optimising spot weights",
    )?;
    let mut w = result.weights.into_iter();
    for beam in beams.iter_mut() {
        for spot in &mut beam.spots {
            spot.weight = w.next().expect("one weight per spot");
        }
    }
    Ok(())
}

/// The target's objectives for a dose `goal_gy` per fraction: squared
/// deviation, plus stronger penalties below 97 % and above 104 % of the goal.
pub(super) fn target_objectives(voxels: Vec<u32>, goal_gy: f64) -> Vec<Objective> {
    vec![
        Objective::SquaredDeviation {
            voxels: voxels.clone(),
            dose_gy: goal_gy,
            weight: 1.0,
        },
        Objective::MinDose {
            voxels: voxels.clone(),
            dose_gy: 0.97 * goal_gy,
            weight: 20.0,
        },
        Objective::MaxDose {
            voxels,
            dose_gy: 1.04 * goal_gy,
            weight: 20.0,
        },
    ]
}

/// The target's objectives ([`target_objectives`]) at the points where its
/// evaluation reads the dose: the centres of the target's CT-grid voxels,
/// each interpolated trilinearly from the dose `grid` (as the report and
/// the D95 normalisation resample it). On the dose grid's own target voxels
/// (nearest centres) the optimiser would aim at a target whose edge it
/// samples more coarsely than the evaluation does, and the normalisation
/// would then scale up its hot spots.
fn target_point_objectives(target: &Mask, grid: &Grid, goal_gy: f64) -> Vec<Objective> {
    let ct = target.grid();
    let (mut voxels, mut weights) = (Vec::new(), Vec::new());
    for idx in target.voxel_indices() {
        let [i, j, k] = ct.ijk(idx as usize);
        if let Some(stencil) = grid.trilinear_stencil(&ct.voxel_centre(i, j, k)) {
            for (v, w) in stencil {
                voxels.push(v as u32);
                weights.push(w);
            }
        }
    }
    let points = (0..(voxels.len() / 8) as u32).collect();
    vec![Objective::OnPoints {
        voxels,
        weights,
        objectives: target_objectives(points, goal_gy),
    }]
}

/// The plan file's organ objectives on the dose grid, per fraction.
fn organ_objectives(
    defs: &[ObjectiveDef],
    structures: &Structures,
    grid: &Grid,
    fractions: u32,
) -> Result<Vec<Objective>, super::Error> {
    defs.iter()
        .enumerate()
        .map(|(k, o)| {
            let mask = structures
                .list
                .iter()
                .find(|(n, _)| *n == o.structure)
                .map(|(_, m)| m)
                .ok_or_else(|| {
                    let names: Vec<&str> =
                        structures.list.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "objective[{k}].structure: no structure named '{}'; the CT has: {}",
                        o.structure,
                        names.join(", ")
                    )
                })?;
            let voxels = mask.resample_nearest(grid).voxel_indices();
            let dose_gy = o.dose_gy / f64::from(fractions);
            Ok(match o.kind {
                ObjectiveKind::Max => Objective::MaxDose {
                    voxels,
                    dose_gy,
                    weight: o.weight,
                },
                ObjectiveKind::Mean => Objective::MeanDose {
                    voxels,
                    dose_gy,
                    weight: o.weight,
                },
                ObjectiveKind::Dvh => Objective::Dvh {
                    voxels,
                    dose_gy,
                    max_volume_pct: o.volume_pct.expect("PlanFile::parse checks"),
                    weight: o.weight,
                },
            })
        })
        .collect()
}

/// The CT and its structures, from a phantom or a DICOM directory.
struct Case {
    ct: CtSeries,
    structures: Vec<(String, Mask)>,
    /// The built phantom, when the CT is one (written to `DIR/ct`).
    phantom: Option<ferrodose_phantom::BuiltPhantom>,
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

/// The doses of one plan over all fractions.
struct PlanDoses {
    /// Absorbed dose to water (Gy).
    physical: Volume<f32>,
    /// RBE-weighted dose (Gy(RBE)).
    rbe: Volume<f32>,
    /// Dose-averaged LET (keV/µm), zero where the dose is below 0.1 % of its maximum.
    letd: Volume<f32>,
}

/// Physical, RBE-weighted dose and LETd of `beams` for `fractions`
/// fractions, zero in air (RSP < 0.05 on the dose grid).
fn plan_doses(
    engine: &PencilBeamEngine,
    beams: &[BeamSpots],
    grid: &Grid,
    rsp_on_grid: &Volume<f32>,
    fractions: u32,
    backend: &Backend,
) -> Result<PlanDoses, super::Error> {
    let carbon = matches!(engine.base.rbe_model, RbeModel::CarbonClinical(_));
    let quantities: &[Quantity] = if carbon {
        &[Quantity::Dose, Quantity::LetDose, Quantity::AlphaDose]
    } else {
        &[Quantity::Dose, Quantity::LetDose]
    };
    let spots: usize = beams.iter().map(|b| b.spots.len()).sum();
    let v = progress::with_spinner(
        &format!("dose, LETd and RBE of {spots} spots on the grid"),
        || engine.doses(beams, grid, backend, quantities),
    )?;
    let n = grid.len();
    let dose = v[0].data();
    let max = v[0].min_max().1;
    let alpha = |i: usize| {
        if carbon {
            f64::from(v[2].data()[i])
        } else {
            0.0
        }
    };
    let air = |i: usize| rsp_on_grid.data()[i] < AIR_RSP;
    let f = fractions as f32;
    let physical = (0..n)
        .map(|i| if air(i) { 0.0 } else { dose[i] * f })
        .collect();
    let rbe = (0..n)
        .map(|i| {
            if air(i) {
                0.0
            } else {
                engine.base.rbe_weighted(f64::from(dose[i]), alpha(i)) as f32 * f
            }
        })
        .collect();
    let letd = (0..n)
        .map(|i| {
            if air(i) || dose[i] <= 1e-3 * max {
                0.0
            } else {
                v[1].data()[i] / dose[i]
            }
        })
        .collect();
    Ok(PlanDoses {
        physical: Volume::from_vec(grid.clone(), physical),
        rbe: Volume::from_vec(grid.clone(), rbe),
        letd: Volume::from_vec(grid.clone(), letd),
    })
}

/// A photon plan's doses from its dose per fraction (Gy): physical = RBE-weighted,
/// zero in air, no LETd.
fn photon_doses(dose: &Volume<f32>, rsp_on_grid: &Volume<f32>, fractions: u32) -> PlanDoses {
    let f = fractions as f32;
    let physical = Volume::from_vec(
        dose.grid().clone(),
        dose.data()
            .iter()
            .zip(rsp_on_grid.data())
            .map(|(d, r)| if *r < AIR_RSP { 0.0 } else { d * f })
            .collect(),
    );
    PlanDoses {
        rbe: physical.clone(),
        letd: Volume::filled(dose.grid().clone(), 0.0),
        physical,
    }
}

/// The run summary's dose figures, the report's own (dose on the CT grid):
/// the target's D95 and D2 in % of the prescription, and the normal liver's
/// V20, V30 (% volume) and mean dose when it exists.
fn report_summary(report: &PlanReport, prescription: Option<&Prescription>, unit: &str) -> String {
    let dvh = |name: &str| report.dvhs.iter().find(|(n, _)| n == name).map(|(_, h)| h);
    let mut summary = String::new();
    if let Some((p, t)) = prescription.and_then(|p| dvh(&p.target).map(|t| (p, t))) {
        summary += &format!(
            "; {} D95 {:.1} % and D2 {:.1} % of {} {unit}",
            p.target,
            100.0 * t.dose_to_pct(95.0) / p.dose_gy,
            100.0 * t.dose_to_pct(2.0) / p.dose_gy,
            p.dose_gy
        );
    }
    if let Some(h) = dvh(NORMAL_LIVER) {
        summary += &format!(
            "; normal liver V20 {:.1} %, V30 {:.1} %, mean {:.1} {unit}",
            h.pct_at_least(20.0),
            h.pct_at_least(30.0),
            h.mean_gy()
        );
    }
    summary
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
    let base_dir = args
        .plan
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    run_plan_file(&file, &base_dir, &args.out, args.force)
}

/// Computes, evaluates and writes every plan of `file` into `out`; a DICOM CT
/// path in the file is relative to `base_dir`.
pub fn run_plan_file(
    file: &PlanFile,
    base_dir: &Path,
    out: &Path,
    force: bool,
) -> Result<(), super::Error> {
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
                phantom: Some(built),
            }
        }
        (_, Some(dir)) => {
            let dir = base_dir.join(dir);
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
                phantom: None,
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

    let structures = Structures::new(
        case.structures.clone(),
        case.ct.hu.grid(),
        file.prescription.as_ref().map(|p| p.target.clone()),
        &file.alpha_beta_gy,
    )?;

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
    let occupied = std::fs::read_dir(out).is_ok_and(|mut d| d.next().is_some());
    if occupied && !force {
        prepare_dir(out, false)?;
    }

    let rsp = calibrated(&case.ct.hu, relative_stopping_power, &backend)?;
    let grid = dose_grid(case.ct.hu.grid(), file.dose.grid_mm)?;
    let target_on_grid = target.map(|t| t.resample_nearest(&grid));
    let water = Material::water(78.0);
    let proton_ranges = RangeTable::new(Ion::proton(), &water, 250.0)?;
    let carbon_ranges = RangeTable::new(Ion::carbon12(), &water, 450.0)?;
    let rsp_on_grid = rsp.resample(&grid, 0.0);
    // Relative electron density for photon plans, made when the first needs it.
    let mut density: Option<Result<Volume<f32>, super::Error>> = None;
    // Organ objectives on the dose grid, the same for every plan.
    let organ = organ_objectives(&file.objectives, &structures, &grid, fractions)?;

    // Every plan is computed before anything is written, so a failing plan
    // leaves no partial output behind.
    let mut results = Vec::new();
    for (plan_index, plan) in file.plans.iter().enumerate() {
        let started = std::time::Instant::now();
        let rt_plan = plan
            .rtplan
            .as_ref()
            .map(|path| {
                rt_plan::load(
                    &base_dir.join(path),
                    plan.modality,
                    file.prescription.as_ref().map(|p| p.fractions),
                    &case.ct,
                )
            })
            .transpose()
            .map_err(|e| format!("plan '{}': {e}", plan.name))?;
        // An RT Plan's own fraction count (checked against the prescription's).
        let fractions = rt_plan.as_ref().map_or(fractions, |r| r.fractions);
        let (mut doses, delivery, rbe_note, optimised, machine_name) = if let Some(
            RtPlanBeams::Photon(beams),
        ) =
            rt_plan.as_ref().map(|r| &r.beams)
        {
            let density = density.get_or_insert_with(|| {
                calibrated(&case.ct.hu, relative_electron_density, &backend)
            });
            let density = density.as_ref().map_err(|e| e.to_string())?;
            // Without a machine, the generic one of the first beam's quality.
            let quality = beams.first().and_then(rt_plan::beam_quality);
            let machine = photon_machine(plan, base_dir, quality.unwrap_or(PhotonBeam::SixMv))?;
            let (machine, cps) =
                rt_plan::photon_control_points(beams, machine, case.ct.info.patient_position)
                    .map_err(|e| format!("plan '{}': {e}", plan.name))?;
            let dose = PhotonEngine::new(&machine, density)
                .dose(&cps, &grid, &backend)
                .map_err(|e| format!("plan '{}': {e}", plan.name))?;
            let mu: f64 = cps.iter().map(|c| c.mu).sum();
            let delivery = format!(
                "RT Plan '{}': {} beams ({}), {} segments, {mu:.1} MU per fraction",
                rt_plan.as_ref().map_or("", |r| r.label.as_str()),
                beams.len(),
                machine.name,
                cps.len()
            );
            (
                photon_doses(&dose, &rsp_on_grid, fractions),
                delivery,
                "photons: RBE 1".to_owned(),
                false,
                machine.name,
            )
        } else if plan.modality == Modality::Photon {
            let p = file
                .prescription
                .as_ref()
                .expect("PlanFile::parse: photon plans need a prescription");
            let target = target.expect("a prescription target");
            let goal = p.dose_gy / f64::from(fractions);
            let target_voxels = target_on_grid
                .as_ref()
                .expect("a prescription target")
                .voxel_indices();
            let density = density.get_or_insert_with(|| {
                calibrated(&case.ct.hu, relative_electron_density, &backend)
            });
            let density = density.as_ref().map_err(|e| e.to_string())?;
            let machine = photon_machine(plan, base_dir, PhotonBeam::SixMv)?;
            let setup = PhotonSetup {
                machine: &machine,
                target,
                target_voxels: &target_voxels,
                target_centre: target_centre.expect("a prescription target"),
                patient_position: case.ct.info.patient_position,
                density,
                goal_gy: goal,
                iterations: file.dose.iterations,
            };
            let (dose, cps) = photon_plan(
                plan,
                &setup,
                &grid,
                organ.clone(),
                target_point_objectives(target, &grid, goal),
                &backend,
            )
            .map_err(|e| format!("plan '{}': {e}", plan.name))?;
            let mu: f64 = cps.iter().map(|c| c.mu).sum();
            let doses = photon_doses(&dose, &rsp_on_grid, fractions);
            let delivery = format!(
                "{} arcs and {} beams ({}), {} control points, {mu:.0} MU per fraction before normalisation",
                plan.arcs.len(),
                plan.beams.len(),
                machine.name,
                cps.len()
            );
            (
                doses,
                delivery,
                "photons: RBE 1".to_owned(),
                true,
                machine.name,
            )
        } else {
            let range_table = match plan.modality {
                Modality::Proton => &proton_ranges,
                _ => &carbon_ranges,
            };
            let machine = ion_machine(file, plan_index, base_dir)?;
            let from_rt_plan = match rt_plan.as_ref().map(|r| &r.beams) {
                Some(RtPlanBeams::Ion { beams, .. }) => Some(
                    rt_plan::ion_beams(
                        beams,
                        &machine,
                        case.ct.info.patient_position,
                        plan.particles_per_mu,
                    )
                    .map_err(|e| format!("plan '{}': {e}", plan.name))?,
                ),
                _ => None,
            };
            let native = plan.beams.iter().map(|b| PlanBeam {
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
                virtual_source_mm: b.virtual_source_mm.or(machine.virtual_source_mm),
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
            });
            let automatic = from_rt_plan.is_none() && plan.beams.iter().all(|b| b.spots.is_empty());
            let mut native: Vec<PlanBeam> = native.collect();
            // PlanFile::parse guarantees: no listed spots ⇒ a prescription with a target.
            if automatic {
                let target_mask =
                    target.expect("PlanFile::parse: automatic spots need a prescription");
                let (lo, hi) = machine.energy_range();
                for beam in &mut native {
                    // Spot spacing from the beam's spot size, or the machine's smallest.
                    let sigma = beam.sigma_air_mm.unwrap_or(machine.min_sigma_air_mm());
                    let placed = place_spots(
                        target_mask,
                        &rsp,
                        &beam.geometry,
                        range_table,
                        &|e| machine.deliverable(e),
                        &PlacementSettings {
                            virtual_source_mm: beam.virtual_source_mm,
                            ..PlacementSettings::for_spot_sigma(sigma)
                        },
                    );
                    if placed.dropped_layers > 0 {
                        eprintln!(
                        "note: plan '{}', gantry {}°: {} energy layers outside the machine's {lo}–{hi} MeV(/u) were dropped",
                        plan.name, beam.geometry.gantry_deg, placed.dropped_layers
                    );
                    }
                    beam.spots = placed.spots;
                }
            }
            let mut beams: Vec<BeamSpots> = match from_rt_plan {
                Some(layers) => layers,
                None => native
                    .into_iter()
                    .flat_map(|b| b.layers(&machine))
                    .collect(),
            };
            let energies = distinct_energies(&beams);
            if energies.is_empty() {
                return Err(format!("plan '{}': no spot reaches the target", plan.name).into());
            }
            let spread = |e: f64| machine.energy_spread(e);
            let mut base = if plan.modality == Modality::Carbon {
                IonBaseData::carbon(&energies, spread, 0.1)?
            } else {
                IonBaseData::protons(&energies, spread, 0.1)?
            };
            if let Some(idds) = &machine.measured_idds {
                for &e in &energies {
                    let column = idds.energy_index(e).ok_or_else(|| {
                        format!("plan '{}': {e} MeV/u has no measured IDD", plan.name)
                    })?;
                    base.use_measured_idd(e, &idds.depth_mm, &idds.idd_mev_cm2_g[column])
                        .map_err(|err| format!("plan '{}': {err}", plan.name))?;
                }
            }
            let mut engine = PencilBeamEngine::new(&base, &rsp);
            engine.lateral_cutoff_fraction = 1.0 - file.dose.ion_lateral_cutoff_pct / 100.0;
            if automatic {
                let prescription = file
                    .prescription
                    .as_ref()
                    .expect("checked by PlanFile::parse");
                let goal = prescription.dose_gy / f64::from(fractions);
                optimise_weights(
                    &engine,
                    &mut beams,
                    &grid,
                    SpotGoal {
                        target: target_on_grid.as_ref().expect("a prescription target"),
                        goal_gy: goal,
                        target_objectives: target_point_objectives(
                            target.expect("a prescription target"),
                            &grid,
                            goal,
                        ),
                        organ_objectives: organ.clone(),
                    },
                    &file.dose,
                    &backend,
                )
                .map_err(|e| format!("plan '{}': {e}", plan.name))?;
            }
            let doses = plan_doses(&engine, &beams, &grid, &rsp_on_grid, fractions, &backend)
                .map_err(|e| format!("plan '{}': {e}", plan.name))?;
            let rbe_note = match base.rbe_model {
                RbeModel::Constant(r) => format!("constant RBE {r}"),
                RbeModel::CarbonClinical(_) => "NIRS clinical RBE (MKM)".to_owned(),
            };
            let spots = beams.iter().map(|b| b.spots.len()).sum::<usize>();
            let delivery = match &rt_plan {
                Some(rt) => format!(
                    "RT Ion Plan '{}': {} energy layers, {spots} spots",
                    rt.label,
                    beams.len()
                ),
                None => format!(
                    "{} beams ({}), {spots} spots",
                    plan.beams.len(),
                    machine.name
                ),
            };
            (doses, delivery, rbe_note, automatic, machine.name)
        };
        if optimised {
            // Normalise so that 95 % of the target receives the prescription
            // (D95 = 100 %), the usual convention for reporting a plan; the
            // dose is linear in a common scale of all weights (for carbon the
            // α mixture, hence the RBE, does not change). D95 is taken as the
            // report takes it: the dose interpolated onto the CT grid, over the
            // target's CT-grid mask.
            let (p, t) = (
                file.prescription
                    .as_ref()
                    .expect("checked by PlanFile::parse"),
                target.expect("a prescription target"),
            );
            let d95 = Dvh::new(&doses.rbe.resample(t.grid(), 0.0), t).dose_to_pct(95.0);
            if d95 > 0.0 {
                let f = (p.dose_gy / d95) as f32;
                for v in [&mut doses.physical, &mut doses.rbe] {
                    v.data_mut().iter_mut().for_each(|d| *d *= f);
                }
                eprintln!(
                    "plan '{}': normalised to {} D95 = 100 % (weights × {f:.4})",
                    plan.name, p.target
                );
            }
        }
        // Photons report physical dose (RBE 1); ions RBE-weighted dose.
        let unit = if plan.modality == Modality::Photon {
            "Gy"
        } else {
            "Gy(RBE)"
        };
        let max = if plan.modality == Modality::Photon {
            format!("max {:.3} Gy", doses.physical.min_max().1)
        } else {
            format!(
                "max {:.3} Gy ({:.3} Gy(RBE))",
                doses.physical.min_max().1,
                doses.rbe.min_max().1
            )
        };
        let mut summary = format!(
            "plan '{}': {delivery}, {} fractions, {max}, {:.1} s",
            plan.name,
            fractions,
            started.elapsed().as_secs_f64()
        );
        if let Some(rt) = &rt_plan {
            let mut isos: Vec<[f64; 3]> = rt.isocentres().into_iter().map(|(_, i)| i).collect();
            isos.dedup();
            for iso in isos {
                let d = doses.physical.sample_trilinear(&Point3::from(iso));
                summary += &format!(
                    "; {:.3} Gy at the isocentre ({:.1}, {:.1}, {:.1}) mm",
                    d.unwrap_or(0.0),
                    iso[0],
                    iso[1],
                    iso[2]
                );
            }
        }
        let report = PlanReport::new(
            &plan.name,
            &format!("{:?}", plan.modality).to_lowercase(),
            unit,
            &doses.rbe,
            &structures,
            file.prescription.as_ref().map(|p| p.dose_gy),
            fractions,
            &backend.describe(),
            started.elapsed().as_secs_f64(),
        )
        .with_machine(&machine_name);
        summary += &report_summary(&report, file.prescription.as_ref(), unit);
        results.push((
            plan.name.clone(),
            plan.modality,
            doses,
            rbe_note,
            summary,
            report,
        ));
    }

    prepare_dir(out, force)?;
    if let Some(built) = &case.phantom {
        write_phantom(built, &out.join("ct"))?;
    }
    let mut reports = Vec::new();
    for (name, modality, doses, rbe_note, summary, report) in results {
        let dir = out.join(&name);
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
        let particle = format!("{modality:?}").to_lowercase();
        write(
            doses.physical,
            DoseType::Physical,
            "RTDOSE_physical.dcm",
            &format!("dose to water, ferrodose {particle} pencil beam"),
        )?;
        if modality != Modality::Photon {
            write(
                doses.rbe,
                DoseType::Effective,
                "RTDOSE_rbe.dcm",
                &format!("RBE-weighted dose, {rbe_note}"),
            )?;
            write_metaimage(&dir.join("LETd.mha"), &doses.letd)?;
        }
        report.write(&dir)?;
        reports.push(report);
        println!("{summary} -> {}", dir.display());
    }
    compare(&reports, out)?;
    let title = format!(
        "ferrodose: {} on {}",
        reports
            .iter()
            .map(|r| r.plan.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        file.ct
            .phantom
            .as_ref()
            .map(|p| format!("the built-in '{p}' phantom"))
            .unwrap_or_else(|| "the DICOM CT".to_owned())
    );
    write_report(
        out,
        &title,
        &case.ct.hu,
        &structures,
        &reports,
        file.prescription.as_ref().map(|p| p.dose_gy),
        file.dose.grid_mm,
    )?;
    println!("report: {}", out.join("report.html").display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spots split into one `BeamSpots` per energy, each with the machine's σ
    /// at its energy (linear between 7 mm at 100 MeV and 5 mm at 200 MeV),
    /// unless the beam sets its own.
    #[test]
    fn beams_split_into_layers_with_the_machine_spot_size() {
        let machine = IonMachine::parse(
            "name = \"m\"\nparticle = \"proton\"\nenergy = [100.0, 200.0]\nsigma_air_mm = [7.0, 5.0]\nenergy_spread_pct = [0.8, 0.8]",
            "m.toml",
        )
        .unwrap();
        let spot = |energy_mev_u: f64| Spot {
            energy_mev_u,
            x_mm: 0.0,
            y_mm: 0.0,
            weight: 1.0,
        };
        let beam = |sigma_air_mm: Option<f64>| PlanBeam {
            geometry: BeamGeometry::coplanar(0.0, Point3::origin(), Default::default()),
            sigma_air_mm,
            virtual_source_mm: None,
            spots: vec![spot(150.0), spot(120.0), spot(150.001)],
        };
        let layers = beam(None).layers(&machine);
        let summary: Vec<(usize, f64)> = layers
            .iter()
            .map(|l| (l.spots.len(), l.sigma_air_mm))
            .collect();
        assert_eq!(summary.len(), 2);
        assert_eq!(summary[0].0, 2);
        assert!((summary[0].1 - 6.0).abs() < 1e-9 && (summary[1].1 - 6.6).abs() < 1e-9);
        assert!(beam(Some(3.0))
            .layers(&machine)
            .iter()
            .all(|l| l.sigma_air_mm == 3.0));
    }
}
