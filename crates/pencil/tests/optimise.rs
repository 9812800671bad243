//! Spot-weight optimisation: a spread-out Bragg peak in water (issue 4: flat
//! within ±2 %), and the sparse influence matrix against the dense kernel.

use ferrodose_gpu::{Backend, GpuContext};
use ferrodose_grid::{BeamGeometry, Grid, Mask, PatientPosition, Point3, Volume};
use ferrodose_optimise::{optimise, uniform_start, InfluenceMatrix, Objective};
use ferrodose_pencil::{
    influence_matrix, influence_matrix_coarse_tail, place_spots, BeamSpots, IonBaseData,
    PencilBeamEngine, PlacementSettings, Quantity, LATERAL_CUTOFF_FRACTION,
};
use ferrodose_physics::{Ion, Material, RangeTable};

/// Water from the surface at y = −150 mm, 2 mm voxels, with a 30 mm cube
/// target at 105–135 mm depth, and one gantry-0° beam (travelling +y) of
/// protons or (`carbon`) ¹²C ions.
fn setup(carbon: bool) -> (Volume<f32>, Mask, BeamSpots, IonBaseData) {
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
    let (ion, machine) = if carbon {
        (Ion::carbon12(), (85.0, 430.0))
    } else {
        (Ion::proton(), (70.0, 230.0))
    };
    let table = RangeTable::new(ion, &Material::water(78.0), 450.0).unwrap();
    let placed = place_spots(
        &target,
        &rsp,
        &geometry,
        &table,
        &|e| (machine.0..=machine.1).contains(&e).then_some(e),
        &PlacementSettings::for_spot_sigma(4.0),
    );
    let base = if carbon {
        IonBaseData::carbon(&placed.energies_mev_u, |_| 0.008, 0.1).unwrap()
    } else {
        IonBaseData::protons(&placed.energies_mev_u, |_| 0.008, 0.1).unwrap()
    };
    (
        rsp,
        target,
        BeamSpots {
            geometry,
            sigma_air_mm: 4.0,
            virtual_source_mm: None,
            spots: placed.spots,
        },
        base,
    )
}

/// The voxels of the plane through the grid's centre that holds a beam at
/// `gantry_deg`: the sagittal plane x = 0 at 0°, else the axial plane z = 0.
fn plane_through_the_centre(grid: &Grid, gantry_deg: f64) -> Vec<bool> {
    let [i0, _, k0] = grid.voxel_of(&Point3::new(0.0, 0.0, 0.0)).unwrap();
    (0..grid.len())
        .map(|n| {
            let [i, _, k] = grid.ijk(n);
            if gantry_deg == 0.0 {
                i == i0
            } else {
                k == k0
            }
        })
        .collect()
}

/// The largest |matrix − kernel| dose over the voxels `keep` holds, and the
/// kernel's maximum dose.
fn largest_difference(matrix: &[f64], kernel: &[f32], keep: &[bool]) -> (f32, f32) {
    let max = kernel.iter().fold(0.0f32, |m, v| m.max(*v));
    let worst = matrix
        .iter()
        .zip(kernel)
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|((s, d), _)| (*s as f32 - d).abs())
        .fold(0.0f32, f32::max);
    (worst, max)
}

/// A·w from the sparse matrix equals the kernel's dose (CPU twin) for the
/// same weights on the voxels it keeps: the two share the per-pair function,
/// and the matrix's per-row search for voxels within a spot's reach loses
/// none. Beam along y (kept: the sagittal plane x = 0) and at gantry 33°
/// (kept: the axial plane z = 0, rows oblique to the rays).
#[test]
fn influence_matrix_reproduces_the_kernel() {
    let (rsp, _, mut beam, base) = setup(false);
    for gantry in [0.0, 33.0] {
        beam.geometry.gantry_deg = gantry;
        let engine = PencilBeamEngine::new(&base, &rsp);
        let grid = rsp.grid().clone();
        let input = engine
            .kernel_input(
                std::slice::from_ref(&beam),
                &grid,
                &Backend::Cpu { reason: None },
            )
            .unwrap();
        let keep = plane_through_the_centre(&grid, gantry);
        let a = influence_matrix(&input, &grid, &keep, &Backend::Cpu { reason: None }).unwrap();
        if let Some(ctx) = GpuContext::for_tests("influence_matrix_reproduces_the_kernel") {
            let gpu = influence_matrix(&input, &grid, &keep, &Backend::Gpu(Box::new(ctx))).unwrap();
            assert_same_matrix(&a, &gpu, 1e-4);
        }
        let w: Vec<f64> = beam.spots.iter().map(|s| s.weight).collect();
        let sparse = a.dose(&w);
        let dense = input.dose(&Backend::Cpu { reason: None }).unwrap();
        let (worst, max) = largest_difference(&sparse, &dense, &keep);
        eprintln!(
            "gantry {gantry}°: {} spots, {} entries, {:.1} MB, max |sparse − dense| {worst:.2e} of max {max:.3e}",
            a.n_columns(),
            a.nnz(),
            a.bytes() as f64 / 1e6
        );
        assert!(max > 0.0 && worst <= 1e-5 * max, "gantry {gantry}°");
        // The protons' nuclear halo (σ ≈ R/7.3 ≈ 16 mm here, cut at 3σ)
        // reaches across most of this 82 mm wide phantom, so the matrix is
        // about three quarters full here; still no pair beyond every cut-off.
        let kept = keep.iter().filter(|k| **k).count();
        assert!(
            a.nnz() < kept * a.n_columns() * 9 / 10,
            "pairs beyond the cut-offs are left out"
        );
    }
}

/// The matrix with the lateral tail on a 10 mm lattice (every 5th voxel of
/// this 2 mm grid) and interpolated (`influence_matrix_coarse_tail`): A·w
/// departs from the kernel's dose by at most 0.5 % of the maximum dose on
/// the kept planes of `influence_matrix_reproduces_the_kernel` (the halo's
/// σ is 16 mm here; the 10 mm lattice smooths its cut-off edge and
/// curvature); GPU and CPU build the same core and tail matrices. The
/// carbon fragments' tail (σ of a few mm) stays on the dose grid.
#[test]
fn coarse_tail_matrix_matches_the_kernel() {
    let (rsp, _, mut beam, base) = setup(false);
    let cpu = Backend::Cpu { reason: None };
    for gantry in [0.0, 33.0] {
        beam.geometry.gantry_deg = gantry;
        let grid = rsp.grid().clone();
        let input = PencilBeamEngine::new(&base, &rsp)
            .kernel_input(std::slice::from_ref(&beam), &grid, &cpu)
            .unwrap();
        let keep = plane_through_the_centre(&grid, gantry);
        let a = influence_matrix_coarse_tail(&input, &grid, &keep, 10.0, &cpu).unwrap();
        let coarse = a
            .coarse
            .as_ref()
            .expect("a tail lattice coarser than the grid");
        if let Some(ctx) = GpuContext::for_tests("coarse_tail_matrix_matches_the_kernel") {
            let gpu = Backend::Gpu(Box::new(ctx));
            let g = influence_matrix_coarse_tail(&input, &grid, &keep, 10.0, &gpu).unwrap();
            assert_same_matrix(&a, &g, 1e-4);
            let tail = |m: &InfluenceMatrix| InfluenceMatrix {
                by_column: m.coarse.as_ref().unwrap().by_column.clone(),
                coarse: None,
            };
            assert_same_matrix(&tail(&a), &tail(&g), 1e-4);
        }
        let full = influence_matrix(&input, &grid, &keep, &cpu).unwrap();
        let w: Vec<f64> = beam.spots.iter().map(|s| s.weight).collect();
        let approx = a.dose(&w);
        let dense = input.dose(&cpu).unwrap();
        let (worst, max) = largest_difference(&approx, &dense, &keep);
        eprintln!(
            "gantry {gantry}°: {} core + {} tail entries (a lattice of {} nodes) against {} on the grid; max |A·w − kernel| {:.2e} of the maximum",
            a.by_column.nnz(),
            coarse.by_column.nnz(),
            coarse.by_column.n_cols,
            full.nnz(),
            worst / max
        );
        assert!(max > 0.0 && worst <= 5e-3 * max, "gantry {gantry}°");
        assert!(a.nnz() < full.nnz() / 2, "the lattice holds fewer entries");
    }
    let (rsp, _, beam, base) = setup(true);
    let input = PencilBeamEngine::new(&base, &rsp)
        .kernel_input(std::slice::from_ref(&beam), rsp.grid(), &cpu)
        .unwrap();
    let keep = vec![true; rsp.grid().len()];
    let carbon = influence_matrix_coarse_tail(&input, rsp.grid(), &keep, 10.0, &cpu).unwrap();
    assert!(
        carbon.coarse.is_none(),
        "the fragments' tail is narrower than 10 mm"
    );
}

/// GPU matrix `b` equals CPU matrix `a` column by column: entries both hold
/// within `tolerance` of `a`'s largest entry; an entry only one holds (a
/// voxel that f32 rounding on the device moves across the lateral cut-off)
/// below it.
fn assert_same_matrix(a: &InfluenceMatrix, b: &InfluenceMatrix, tolerance: f32) {
    let d = a.by_column.difference(&b.by_column);
    eprintln!(
        "GPU vs CPU matrix: {} / {} entries, {} in one only, largest difference {:.2e} of the maximum",
        a.nnz(),
        b.nnz(),
        d.only_one,
        d.largest / d.largest_entry
    );
    assert!(d.largest <= tolerance * d.largest_entry, "{d:?}");
    assert!(
        d.only_one * 1000 <= a.nnz(),
        "{} entries in one matrix only",
        d.only_one
    );
}

/// The influence matrix of RBE-weighted dose over the target voxels (the
/// objective needs those only) and the SOBP's objective: `dose` Gy(RBE).
fn sobp_problem(
    rsp: &Volume<f32>,
    target: &Mask,
    beam: &BeamSpots,
    base: &IonBaseData,
    dose: f64,
) -> (InfluenceMatrix, Vec<Objective>) {
    let mut input = PencilBeamEngine::new(base, rsp)
        .kernel_input(
            std::slice::from_ref(beam),
            rsp.grid(),
            &Backend::Cpu { reason: None },
        )
        .unwrap();
    input.depth_table = base.kernel_table(Quantity::RbeWeightedDose, LATERAL_CUTOFF_FRACTION);
    let a = influence_matrix(
        &input,
        rsp.grid(),
        target.data(),
        &Backend::Cpu { reason: None },
    )
    .unwrap();
    let objectives = vec![Objective::SquaredDeviation {
        voxels: target.voxel_indices(),
        dose_gy: dose,
        weight: 1.0,
    }];
    (a, objectives)
}

/// The optimiser's products on the GPU (`sparse_mat_vec.wgsl`, lavapipe in
/// CI) against the CPU twin on a real problem, the proton SOBP: 40
/// iterations from the same start reach the same objective within 1e-4 and
/// the same weights within 1e-3 of the largest (f32 sums in another order
/// may move the line search by rounding; tolerances stated for that).
#[test]
fn optimiser_on_gpu_matches_cpu() {
    let Some(ctx) = ferrodose_gpu::GpuContext::for_tests("optimiser_on_gpu") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let (rsp, target, beam, base) = setup(false);
    let (a, objectives) = sobp_problem(&rsp, &target, &beam, &base, 2.0);
    let start = uniform_start(&a, &target.voxel_indices(), 2.0);
    let run =
        |backend: &Backend| optimise(&a, backend, &objectives, start.clone(), 40, &|_| {}).unwrap();
    let (c, g) = (run(&Backend::Cpu { reason: None }), run(&gpu));
    let (fc, fg) = (c.history[39], g.history[39]);
    let wmax = c.weights.iter().fold(0.0f64, |m, w| m.max(*w));
    let worst = c
        .weights
        .iter()
        .zip(&g.weights)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f64, f64::max);
    eprintln!(
        "{} spots, {} entries: objective {:.3e} → CPU {fc:.6e}, GPU {fg:.6e}; max |Δw| {:.1e} of the largest",
        a.n_columns(),
        a.nnz(),
        c.history[0],
        worst / wmax
    );
    assert!(fc < 0.1 * c.history[0], "the optimiser converges");
    assert!((fg / fc - 1.0).abs() <= 1e-4, "objective CPU {fc} GPU {fg}");
    assert!(worst <= 1e-3 * wmax, "weights differ by {worst} of {wmax}");
}

/// Optimises a spread-out peak of `dose` Gy (RBE-weighted with each depth's
/// RBE) over the target of `setup(carbon)`; returns the influence matrix of
/// RBE-weighted dose, the weights and the central-axis voxels.
fn optimised_sobp(
    carbon: bool,
    dose: f64,
) -> (
    Volume<f32>,
    BeamSpots,
    IonBaseData,
    InfluenceMatrix,
    Vec<f64>,
    Vec<usize>,
) {
    let (rsp, target, beam, base) = setup(carbon);
    let grid = rsp.grid().clone();
    let (a, objectives) = sobp_problem(&rsp, &target, &beam, &base, dose);
    let result = optimise(
        &a,
        &Backend::Cpu { reason: None },
        &objectives,
        uniform_start(&a, &target.voxel_indices(), dose),
        150,
        &|_| {},
    )
    .unwrap();
    assert!(result.history.last().unwrap() < &result.history[0]);
    // Central axis: x = 0, z = 0 voxel column, target depths 105–135 mm, 2 mm in from each edge.
    let [i0, _, k0] = grid.voxel_of(&Point3::new(0.0, 0.0, 0.0)).unwrap();
    let axis: Vec<usize> = (0..grid.shape()[1])
        .filter(|&j| {
            let y = grid.voxel_centre(i0, j, k0).y;
            y > -43.0 && y < -17.0
        })
        .map(|j| grid.index(i0, j, k0))
        .collect();
    eprintln!(
        "Z = {}: {} spots, objective {:.3e} → {:.3e}",
        base.ion.z,
        a.n_columns(),
        result.history[0],
        result.history.last().unwrap()
    );
    (rsp, beam, base, a, result.weights, axis)
}

/// Largest relative deviation from the mean, and the mean.
fn flatness(values: &[f64]) -> (f64, f64) {
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let spread = values
        .iter()
        .map(|v| (v / mean - 1.0).abs())
        .fold(0.0, f64::max);
    (spread, mean)
}

/// Issue 4: a spread-out Bragg peak optimised in water is flat within ±2 %
/// along the central axis of the target.
#[test]
fn sobp_in_water_is_flat() {
    let (_, _, _, a, w, axis) = optimised_sobp(false, 2.2);
    let d = a.dose(&w);
    let (spread, mean) = flatness(&axis.iter().map(|v| d[*v]).collect::<Vec<_>>());
    eprintln!(
        "proton SOBP: {mean:.3} Gy(RBE) ± {:.2} % over {} voxels",
        spread * 100.0,
        axis.len()
    );
    assert!(spread <= 0.02, "SOBP flat within ±{:.2} %", spread * 100.0);
    assert!((mean / 2.2 - 1.0).abs() < 0.02);
}

/// Issue 4: a carbon SOBP optimised on RBE-weighted dose is flat within ±2 %
/// in the optimiser's (per-depth RBE) dose; the RBE-weighted dose recomputed
/// with dose-mean α mixing stays within ±4 % of the goal; LETd rises through
/// the SOBP within 30–120 keV/µm. The mean RBE is 2.22, below the published
/// 2.5–3.0 band of spread-out peaks (shared/reference/README.md): an open
/// discrepancy of the LET-form MKM (docs/validation.md), so the test only
/// bounds it to 2.0–3.0.
#[test]
fn carbon_sobp_is_flat_in_rbe_weighted_dose() {
    let (rsp, mut beam, base, a, w, axis) = optimised_sobp(true, 3.0);
    let d = a.dose(&w);
    let (spread, mean) = flatness(&axis.iter().map(|v| d[*v]).collect::<Vec<_>>());
    for (s, wi) in beam.spots.iter_mut().zip(&w) {
        s.weight = *wi;
    }
    let v = PencilBeamEngine::new(&base, &rsp)
        .doses(
            std::slice::from_ref(&beam),
            rsp.grid(),
            &Backend::Cpu { reason: None },
            &[Quantity::Dose, Quantity::AlphaDose, Quantity::LetDose],
        )
        .unwrap();
    let mixed: Vec<f64> = axis
        .iter()
        .map(|i| base.rbe_weighted(f64::from(v[0].data()[*i]), f64::from(v[1].data()[*i])))
        .collect();
    let (mixed_spread, mixed_mean) = flatness(&mixed);
    let letd: Vec<f64> = axis
        .iter()
        .map(|i| f64::from(v[2].data()[*i] / v[0].data()[*i]))
        .collect();
    eprintln!("LETd along the SOBP (keV/µm): {letd:.1?}");
    let rbe = mixed_mean
        / (axis.iter().map(|i| f64::from(v[0].data()[*i])).sum::<f64>() / axis.len() as f64);
    eprintln!(
        "carbon SOBP: per-depth RBE {mean:.3} Gy(RBE) ± {:.2} %; α-mixed {mixed_mean:.3} ± {:.2} %; mean RBE {rbe:.2}",
        spread * 100.0,
        mixed_spread * 100.0
    );
    assert!(spread <= 0.02, "SOBP flat within ±{:.2} %", spread * 100.0);
    // After 150 iterations the level is within 3 % of the goal.
    assert!((mean / 3.0 - 1.0).abs() < 0.03);
    assert!(
        mixed.iter().all(|m| (m / 3.0 - 1.0).abs() < 0.04),
        "{mixed:?}"
    );
    assert!((2.0..3.0).contains(&rbe), "RBE {rbe}");
    assert!(letd.windows(2).all(|p| p[1] > p[0]), "{letd:?}");
    assert!(letd.iter().all(|l| (30.0..120.0).contains(l)), "{letd:?}");
}
