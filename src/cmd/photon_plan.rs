//! Photon plans in `ferrodose run`: VMAT arcs and static beams with apertures
//! conformal to the target, their meterset weights optimised with the same
//! objectives as the ion plans.

use ferrodose_gpu::Backend;
use ferrodose_grid::{BeamGeometry, Grid, Mask, PatientPosition, Point3, Volume};
use ferrodose_optimise::{objective_voxels, optimise, uniform_start, Objective};
use ferrodose_photon::{
    arc_control_points, conformal_control_point, ArcSettings, ControlPoint, PhotonEngine,
    PhotonMachine, TargetPoints,
};
use ferrodose_plan::{Isocentre, Plan};

/// Where a photon plan's beams point and what they aim at.
pub struct PhotonSetup<'a> {
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
    let machine = PhotonMachine::generic_6mv();
    let engine = PhotonEngine::new(&machine, setup.density);
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
    let mut cps = Vec::new();
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
        cps.extend(arc_control_points(&machine, &g, &settings, setup.target)?);
    }
    for b in &plan.beams {
        let g = geometry(b.gantry_deg, b.couch_deg, b.collimator_deg, &b.isocentre);
        cps.push(conformal_control_point(&machine, &g, &points, 3.0)?);
    }
    // Rows: the target and every voxel an organ objective looks at.
    let target_voxels = setup.target_voxels;
    if target_voxels.is_empty() {
        return Err("the target has no voxel on the dose grid".into());
    }
    let mut rows: Vec<u32> = target_voxels
        .iter()
        .copied()
        .chain(objective_voxels(&organ_objectives))
        .collect();
    rows.sort_unstable();
    rows.dedup();
    let started = std::time::Instant::now();
    let a = engine.control_point_matrix(&cps, grid, &rows)?;
    eprintln!(
        "photon plan '{}': {} control points over {} voxels ({} influence entries, {:.0} MB) in {:.1} s; optimising MU, {} iterations",
        plan.name,
        cps.len(),
        rows.len(),
        a.nnz(),
        a.bytes() as f64 / 1e6,
        started.elapsed().as_secs_f64(),
        setup.iterations
    );
    let (goal_gy, iterations) = (setup.goal_gy, setup.iterations);
    let start = uniform_start(&a, target_voxels, goal_gy);
    let objectives: Vec<Objective> = target_objectives
        .into_iter()
        .chain(organ_objectives)
        .collect();
    let result = optimise(&a, &objectives, start, iterations);
    for (cp, mu) in cps.iter_mut().zip(result.weights) {
        cp.mu = mu;
    }
    let dose = engine.dose(&cps, grid, backend)?;
    Ok((dose, cps))
}
