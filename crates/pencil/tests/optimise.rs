//! Spot-weight optimisation: a spread-out Bragg peak in water (issue 4: flat
//! within ±2 %), and the sparse influence matrix against the dense kernel.

use ferrodose_gpu::Backend;
use ferrodose_grid::{BeamGeometry, Grid, Mask, PatientPosition, Point3, Volume};
use ferrodose_pencil::{
    optimise, place_spots, uniform_start, BeamSpots, InfluenceMatrix, IonBaseData, Objective,
    PencilBeamEngine, PlacementSettings,
};
use ferrodose_physics::{Ion, Material, RangeTable};

/// Water from the surface at y = −150 mm, 2 mm voxels, with a 30 mm cube
/// target at 105–135 mm depth, and one gantry-0° beam (travelling +y).
fn setup() -> (Volume<f32>, Mask, BeamSpots, IonBaseData) {
    let grid = Grid::axial([41, 90, 41], [2.0; 3], Point3::new(-40.0, -149.0, -40.0)).unwrap();
    let rsp = Volume::filled(grid.clone(), 1.0f32);
    let target = Mask::from_vec(
        grid.clone(),
        (0..grid.len())
            .map(|n| {
                let [i, j, k] = grid.ijk(n);
                let p = grid.voxel_centre(i, j, k);
                p.x.abs() < 15.0 && p.z.abs() < 15.0 && p.y > -45.0 && p.y < -15.0
            })
            .collect(),
    );
    let geometry = BeamGeometry::coplanar(0.0, Point3::new(0.0, -30.0, 0.0), PatientPosition::Hfs);
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
    let placed = place_spots(
        &target,
        &rsp,
        &geometry,
        &table,
        (70.0, 230.0),
        &PlacementSettings::for_spot_sigma(4.0),
    );
    let base = IonBaseData::protons(&placed.energies_mev_u, 0.008, 0.1).unwrap();
    (
        rsp,
        target,
        BeamSpots {
            geometry,
            sigma_air_mm: 4.0,
            spots: placed.spots,
        },
        base,
    )
}

/// A·w from the sparse matrix equals the kernel's dose (CPU twin) for the
/// same weights on the voxels it keeps (here the sagittal plane x = 0): the
/// two share the per-pair function.
#[test]
fn influence_matrix_reproduces_the_kernel() {
    let (rsp, _, beam, base) = setup();
    let engine = PencilBeamEngine::new(&base, &rsp);
    let grid = rsp.grid().clone();
    let input = engine
        .kernel_input(std::slice::from_ref(&beam), &grid)
        .unwrap();
    let [i0, _, _] = grid.voxel_of(&Point3::new(0.0, 0.0, 0.0)).unwrap();
    let keep: Vec<bool> = (0..grid.len()).map(|n| grid.ijk(n)[0] == i0).collect();
    let a = InfluenceMatrix::build(&input, &grid, &keep);
    let w: Vec<f64> = beam.spots.iter().map(|s| s.weight).collect();
    let sparse = a.dose(&w);
    let dense = input.dose(&Backend::Cpu { reason: None }).unwrap();
    let max = dense.iter().fold(0.0f32, |m, v| m.max(*v));
    let worst = sparse
        .iter()
        .zip(&dense)
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|((s, d), _)| (*s as f32 - d).abs())
        .fold(0.0f32, f32::max);
    eprintln!(
        "{} spots, {} entries, {:.1} MB, max |sparse − dense| {worst:.2e} of max {max:.3e}",
        a.n_spots(),
        a.nnz(),
        a.bytes() as f64 / 1e6
    );
    assert!(worst <= 1e-5 * max);
    let kept = keep.iter().filter(|k| **k).count();
    assert!(a.nnz() < kept * a.n_spots() / 2, "the matrix is sparse");
}

/// Issue 4: a spread-out Bragg peak optimised in water is flat within ±2 %
/// along the central axis of the target.
#[test]
fn sobp_in_water_is_flat() {
    let (rsp, target, beam, base) = setup();
    let grid = rsp.grid().clone();
    let engine = PencilBeamEngine::new(&base, &rsp);
    let input = engine
        .kernel_input(std::slice::from_ref(&beam), &grid)
        .unwrap();
    // The objective needs the target voxels only.
    let a = InfluenceMatrix::build(&input, &grid, target.data());
    let voxels = target.voxel_indices();
    let objectives = [Objective::SquaredDeviation {
        voxels: voxels.clone(),
        dose_gy: 2.0,
        weight: 1.0,
    }];
    let result = optimise(&a, &objectives, uniform_start(&a, &voxels, 2.0), 150);
    assert!(result.history.last().unwrap() < &result.history[0]);
    let d = a.dose(&result.weights);
    // Central axis: x = 0, z = 0 voxel column, target depths 105–135 mm, 2 mm in from each edge.
    let [i0, _, k0] = grid.voxel_of(&Point3::new(0.0, 0.0, 0.0)).unwrap();
    let axis: Vec<f64> = (0..grid.shape()[1])
        .filter(|&j| {
            let y = grid.voxel_centre(i0, j, k0).y;
            y > -43.0 && y < -17.0
        })
        .map(|j| d[grid.index(i0, j, k0)])
        .collect();
    let mean = axis.iter().sum::<f64>() / axis.len() as f64;
    let spread = axis
        .iter()
        .map(|v| (v / mean - 1.0).abs())
        .fold(0.0, f64::max);
    let interior: Vec<f64> = voxels.iter().map(|v| d[*v as usize]).collect();
    let d_min = interior.iter().copied().fold(f64::MAX, f64::min);
    eprintln!(
        "{} spots: central-axis dose {mean:.3} Gy ± {:.2} % over {} voxels; target min {d_min:.3} Gy; objective {:.3e} → {:.3e}",
        a.n_spots(),
        spread * 100.0,
        axis.len(),
        result.history[0],
        result.history.last().unwrap()
    );
    assert!(spread <= 0.02, "SOBP flat within ±{:.2} %", spread * 100.0);
    assert!((mean / 2.0 - 1.0).abs() < 0.02);
}
