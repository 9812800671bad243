//! Photon plans in `ferrodose run`: VMAT arcs and static beams, either with
//! apertures conformal to the target whose meterset weights are optimised,
//! or (`[plan.fluence]`) with optimised beamlet fluence sequenced into
//! step-and-shoot segments whose weights are optimised again; the same
//! objectives as the ion plans throughout.

use super::progress;
use ferrodose_gpu::{Backend, GpuError};
use ferrodose_grid::{BeamGeometry, Grid, Mask, PatientPosition, Point3, Volume};
use ferrodose_optimise::{
    objective_voxels, optimise, uniform_start, InfluenceMatrix, Objective, Optimised,
};
use ferrodose_photon::{
    arc_sectors, conformal_control_point, lateral_cutoff_mm, ArcSettings, BeamletField,
    ControlPoint, PhotonEngine, PhotonMachine, TargetPoints, BEAMLET_DOSE_THRESHOLD,
};
use ferrodose_plan::{Isocentre, Plan};

/// Where a photon plan's beams point and what they aim at.
pub struct PhotonSetup<'a> {
    pub machine: &'a PhotonMachine,
    pub target: &'a Mask,
    /// The target's voxels on the dose grid.
    pub target_voxels: &'a [u32],
    pub target_centre: Point3<f64>,
    pub patient_position: PatientPosition,
    /// Relative electron density on the CT grid.
    pub density: &'a Volume<f32>,
    /// Target dose per fraction (Gy).
    pub goal_gy: f64,
    /// Optimiser iterations.
    pub iterations: usize,
}

/// The optimised control points of `plan` and their dose per fraction (Gy)
/// on `grid`.
pub fn photon_plan(
    plan: &Plan,
    setup: &PhotonSetup,
    grid: &Grid,
    organ_objectives: Vec<Objective>,
    target_objectives: Vec<Objective>,
    backend: &Backend,
) -> Result<(Volume<f32>, Vec<ControlPoint>), super::Error> {
    let machine = setup.machine;
    let engine = PhotonEngine::new(machine, setup.density);
    let points = TargetPoints::new(setup.target)?;
    let geometry = |gantry_deg, couch_deg, collimator_deg, iso: &Isocentre| BeamGeometry {
        gantry_deg,
        couch_deg,
        collimator_deg,
        isocentre_mm: match iso {
            Isocentre::Point(p) => Point3::from(*p),
            Isocentre::Named(_) => setup.target_centre,
        },
        patient_position: setup.patient_position,
    };
    // Every beam direction: geometry, arc sector width (°, 0 for a static
    // beam) and aperture margin (mm).
    let mut directions: Vec<(BeamGeometry, f64, f64)> = Vec::new();
    for arc in &plan.arcs {
        let g = geometry(
            arc.start_deg,
            arc.couch_deg,
            arc.collimator_deg,
            &arc.isocentre,
        );
        let settings = ArcSettings {
            start_deg: arc.start_deg,
            stop_deg: arc.stop_deg,
            spacing_deg: arc.spacing_deg,
            margin_mm: arc.margin_mm,
        };
        let (sectors, step) = arc_sectors(&g, &settings)?;
        directions.extend(sectors.into_iter().map(|g| (g, step, arc.margin_mm)));
    }
    for b in &plan.beams {
        let g = geometry(b.gantry_deg, b.couch_deg, b.collimator_deg, &b.isocentre);
        directions.push((g, 0.0, 3.0));
    }
    // Rows: the target and every voxel an organ objective looks at.
    let target_voxels = setup.target_voxels;
    if target_voxels.is_empty() {
        return Err("the target has no voxel on the dose grid".into());
    }
    let objectives: Vec<Objective> = target_objectives
        .into_iter()
        .chain(organ_objectives)
        .collect();
    let mut rows: Vec<u32> = target_voxels
        .iter()
        .copied()
        .chain(objective_voxels(&objectives))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let (goal_gy, iterations) = (setup.goal_gy, setup.iterations);
    let started = std::time::Instant::now();
    let cps = match &plan.fluence {
        None => {
            let mut cps = directions
                .iter()
                .map(|(g, _, margin)| conformal_control_point(machine, g, &points, *margin))
                .collect::<Result<Vec<_>, _>>()?;
            let a = progress::with_spinner(
                &format!("influence matrix of {} control points", cps.len()),
                || engine.control_point_matrix(&cps, grid, &rows, backend),
            )?;
            eprintln!(
                "photon plan '{}': {} control points over {} voxels ({} influence entries, {:.0} MB) in {:.1} s; optimising MU, {iterations} iterations",
                plan.name,
                cps.len(),
                rows.len(),
                a.nnz(),
                a.bytes() as f64 / 1e6,
                started.elapsed().as_secs_f64(),
            );
            let start = uniform_start(&a, target_voxels, goal_gy);
            let result =
                optimise_with_bar(&a, backend, &objectives, start, iterations, "optimising MU")?;
            for (cp, mu) in cps.iter_mut().zip(result.weights) {
                cp.mu = mu;
            }
            cps
        }
        Some(f) => {
            let fields = directions
                .iter()
                .map(|(g, _, margin)| {
                    BeamletField::conformal(machine, g, &points, *margin, f.beamlet_mm)
                })
                .collect::<Result<Vec<_>, _>>()?;
            let leaf_mm = fields
                .iter()
                .flat_map(|fd| fd.rows.iter())
                .map(|r| {
                    machine.leaf_boundaries_mm[r.pair + 1] - machine.leaf_boundaries_mm[r.pair]
                })
                .fold(f.beamlet_mm, f64::max);
            let cutoff = lateral_cutoff_mm(machine, 0.5 * leaf_mm, BEAMLET_DOSE_THRESHOLD);
            let a = progress::with_spinner("beamlet influence matrix", || {
                engine.beamlet_matrix(&fields, grid, &rows, cutoff, backend)
            })?;
            eprintln!(
                "photon plan '{}': {} beamlets of {} mm in {} directions over {} voxels (cut-off {cutoff} mm, {} influence entries, {:.0} MB) in {:.1} s; optimising fluence, {iterations} iterations",
                plan.name,
                a.n_columns(),
                f.beamlet_mm,
                fields.len(),
                rows.len(),
                a.nnz(),
                a.bytes() as f64 / 1e6,
                started.elapsed().as_secs_f64(),
            );
            let start = uniform_start(&a, target_voxels, goal_gy);
            let w = optimise_with_bar(
                &a,
                backend,
                &objectives,
                start,
                iterations,
                "optimising fluence",
            )?
            .weights;
            let optimised = a.dose(&w);
            let mut cps = sequence(machine, &fields, &directions, &w, f.levels);
            // Segment-weight optimisation: the segments' own dose (leaf
            // transmission, rounded leaf ends) per MU, their MU re-optimised
            // from the sequenced values with the same objectives.
            let segments = progress::with_spinner(
                &format!("influence matrix of {} segments", cps.len()),
                || engine.control_point_matrix(&cps, grid, &rows, backend),
            )?;
            let sequenced_mu: Vec<f64> = cps.iter().map(|cp| cp.mu).collect();
            let sequenced = segments.dose(&sequenced_mu);
            let result = optimise_with_bar(
                &segments,
                backend,
                &objectives,
                sequenced_mu,
                iterations,
                "optimising segment MU",
            )?;
            let reoptimised = segments.dose(&result.weights);
            for (cp, mu) in cps.iter_mut().zip(result.weights) {
                cp.mu = mu;
            }
            let against_fluence =
                |dose: &[f64]| departure(&optimised, dose, target_voxels, goal_gy);
            let (sequenced, reoptimised, fluence) = (
                against_fluence(&sequenced),
                against_fluence(&reoptimised),
                against_fluence(&optimised),
            );
            eprintln!(
                "photon plan '{}': {} segments ({} levels) in the target against the optimised fluence: \
                 sequenced D95 {:.1} % vs {:.1} %, mean |Δ| {:.1} % of the prescription; \
                 after segment-weight optimisation D95 {:.1} %, mean |Δ| {:.1} %",
                plan.name,
                cps.len(),
                f.levels,
                sequenced.1,
                fluence.1,
                sequenced.0,
                reoptimised.1,
                reoptimised.0,
            );
            cps
        }
    };
    let optimised_s = started.elapsed().as_secs_f64();
    let dose = progress::with_spinner(
        &format!("dose of {} control points on the grid", cps.len()),
        || engine.dose(&cps, grid, backend),
    )?;
    eprintln!(
        "photon plan '{}': optimised after {optimised_s:.1} s; the dose of its {} control points on the whole grid took {:.1} s",
        plan.name,
        cps.len(),
        started.elapsed().as_secs_f64() - optimised_s
    );
    Ok((dose, cps))
}

/// `optimise` on `backend` under a progress bar labelled `what`.
pub(super) fn optimise_with_bar(
    a: &InfluenceMatrix,
    backend: &Backend,
    objectives: &[Objective],
    start: Vec<f64>,
    iterations: usize,
    what: &str,
) -> Result<Optimised, GpuError> {
    let bar = progress::iterations(iterations, what);
    let result = optimise(a, backend, objectives, start, iterations, &|i| {
        bar.set_position(i as u64)
    });
    bar.finish_and_clear();
    result
}

/// Leaf sequencing of optimised beamlet weights (MU) into step-and-shoot
/// segments; an arc sector's segments are spread evenly over the sector.
fn sequence(
    machine: &PhotonMachine,
    fields: &[BeamletField],
    directions: &[(BeamGeometry, f64, f64)],
    weights: &[f64],
    levels: u32,
) -> Vec<ControlPoint> {
    let mut cps = Vec::new();
    let mut first = 0;
    for (field, (g, sector_deg, _)) in fields.iter().zip(directions) {
        let w = &weights[first..first + field.len()];
        first += field.len();
        let mut segments = field.sequence(machine, w, levels);
        let n = segments.len() as f64;
        for (j, s) in segments.iter_mut().enumerate() {
            s.geometry.gantry_deg =
                (g.gantry_deg + sector_deg * ((j as f64 + 0.5) / n - 0.5)).rem_euclid(360.0);
        }
        cps.extend(segments);
    }
    cps
}

/// How far `dose` departs from the `optimised` fluence's dose in the target
/// (both per fraction, before normalisation, on the plan's rows of the dose
/// grid): the mean absolute difference and D95 of `dose`, in % of the
/// prescription.
fn departure(optimised: &[f64], dose: &[f64], target_voxels: &[u32], goal_gy: f64) -> (f64, f64) {
    let mut values: Vec<f64> = target_voxels.iter().map(|v| dose[*v as usize]).collect();
    let mean_abs = target_voxels
        .iter()
        .map(|v| (dose[*v as usize] - optimised[*v as usize]).abs())
        .sum::<f64>()
        / values.len() as f64;
    values.sort_by(f64::total_cmp);
    let d95 = values[(0.05 * values.len() as f64) as usize];
    (100.0 * mean_abs / goal_gy, 100.0 * d95 / goal_gy)
}
