//! The ion dose's two paths against each other on the built-in liver phantom
//! (Schneider RSP), spots over the PTV's extent:
//! - GPU (the `ion_pb_dose` kernel) against the CPU path (each spot's reach,
//!   `dose_by_segments`), for every depth table (dose, RBE-weighted, α- and
//!   LET-weighted dose); tolerance 1e-4 of the maximum, voxel by voxel
//!   (issue 4);
//! - the CPU path against the kernel's CPU twin, which tests every voxel
//!   against every spot, on the same case and on random beams (one case
//!   with over 1024 spots, more than one pass of the CPU path); the same
//!   pairs, so only f32 summation differs: tolerance 1e-5 of the maximum.

use ferrodose_gpu::{Backend, GpuContext, PiecewiseLinear};
use ferrodose_grid::{BeamGeometry, Grid, PatientPosition, Point3, Volume};
use ferrodose_pencil::{
    dose_by_segments, BeamSpots, IonBaseData, PencilBeamEngine, Quantity, Spot,
};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn protons() -> IonBaseData {
    IonBaseData::protons(&[110.0, 130.0, 150.0], |_| 0.008, 0.5).unwrap()
}

fn carbon() -> IonBaseData {
    IonBaseData::carbon(&[200.0, 230.0, 260.0], |_| 0.008, 0.5).unwrap()
}

#[test]
fn liver_two_proton_beams_gpu_matches_cpu() {
    liver_two_beams(&protons());
}

#[test]
fn liver_two_carbon_beams_gpu_matches_cpu() {
    liver_two_beams(&carbon());
}

/// The liver phantom's RSP, converted on `backend`.
fn liver_rsp(backend: &Backend) -> Volume<f32> {
    let phantom = ferrodose_phantom::Phantom::builtin("liver")
        .unwrap()
        .build()
        .unwrap();
    let knots = ferrodose_physics::calibration::knots(
        5.0,
        ferrodose_physics::calibration::relative_stopping_power,
    );
    let rsp = PiecewiseLinear::new(knots)
        .unwrap()
        .apply(backend, phantom.hu.data())
        .unwrap();
    Volume::from_vec(phantom.hu.grid().clone(), rsp)
}

/// A 5 mm dose grid around the target.
fn liver_grid() -> Grid {
    Grid::axial([40, 36, 30], [5.0; 3], Point3::new(-180.0, -90.0, -50.0)).unwrap()
}

const LIVER_TARGET: [f64; 3] = [-85.0, 0.0, 25.0];

/// Gantry 270° and 180°, 7 × 7 spots 8 mm apart cycling through `energies`.
fn two_beams(energies: &[f64]) -> Vec<BeamSpots> {
    let target = Point3::from(LIVER_TARGET);
    [270.0, 180.0]
        .iter()
        .map(|&g| BeamSpots {
            geometry: BeamGeometry::coplanar(g, target, PatientPosition::Hfs),
            sigma_air_mm: 4.0,
            virtual_source_mm: None,
            spots: (-3..=3)
                .flat_map(|i| (-3..=3).map(move |j| (i, j)))
                .enumerate()
                .map(|(n, (i, j))| Spot {
                    energy_mev_u: energies[n % 3],
                    x_mm: f64::from(i) * 8.0,
                    y_mm: f64::from(j) * 8.0,
                    weight: 1e8,
                })
                .collect(),
        })
        .collect()
}

/// 1–3 beams at random gantry and couch angles about a jittered isocentre,
/// each with `spots` spots at random positions (±40 mm), energies, weights
/// and spot sizes, some from a virtual source 2 m away.
fn random_beams(
    rng: &mut Xoshiro256PlusPlus,
    energies: &[f64],
    spots: std::ops::Range<usize>,
) -> Vec<BeamSpots> {
    (0..rng.random_range(1..4))
        .map(|_| {
            let jitter = [(); 3].map(|_| rng.random_range(-20.0..20.0));
            let iso = Point3::from(std::array::from_fn::<f64, 3, _>(|a| {
                LIVER_TARGET[a] + jitter[a]
            }));
            let mut geometry =
                BeamGeometry::coplanar(rng.random_range(0.0..360.0), iso, PatientPosition::Hfs);
            geometry.couch_deg = rng.random_range(-30.0..30.0);
            BeamSpots {
                geometry,
                sigma_air_mm: rng.random_range(2.0..8.0),
                virtual_source_mm: rng.random_bool(0.5).then_some(2000.0),
                spots: (0..rng.random_range(spots.clone()))
                    .map(|_| Spot {
                        energy_mev_u: energies[rng.random_range(0..energies.len())],
                        x_mm: rng.random_range(-40.0..40.0),
                        y_mm: rng.random_range(-40.0..40.0),
                        weight: rng.random_range(0.0..2e8),
                    })
                    .collect(),
            }
        })
        .collect()
}

/// max |a − b| and max |a|.
fn largest_difference(a: &[f32], b: &[f32]) -> (f32, f32) {
    let max = a.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0f32, f32::max);
    (worst, max)
}

fn liver_two_beams(base: &IonBaseData) {
    let Some(ctx) = GpuContext::for_tests("pencil_liver_parity") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let cpu = Backend::Cpu { reason: None };
    let rsp = liver_rsp(&gpu);
    let beams = two_beams(&base.energies_mev_u);
    let grid = liver_grid();
    let engine = PencilBeamEngine::new(base, &rsp);
    let quantities = [
        Quantity::Dose,
        Quantity::RbeWeightedDose,
        Quantity::AlphaDose,
        Quantity::LetDose,
    ];
    let g = engine.doses(&beams, &grid, &gpu, &quantities).unwrap();
    let c = engine.doses(&beams, &grid, &cpu, &quantities).unwrap();
    for ((q, g), c) in quantities.iter().zip(&g).zip(&c) {
        let (worst, max) = largest_difference(c.data(), g.data());
        eprintln!(
            "liver, Z = {}, 98 spots, {q:?}: max {max:.4}, max |GPU − CPU| {worst:.3e}",
            base.ion.z
        );
        if *q == Quantity::AlphaDose && base.ion.z == 1 {
            assert_eq!(max, 0.0, "no α table for constant-RBE protons");
            continue;
        }
        assert!(max > 0.1);
        assert!(worst <= 1e-4 * max, "{q:?}: {worst} vs {max}");
    }
}

#[test]
fn segment_dose_matches_the_dose_kernel() {
    let cpu = Backend::Cpu { reason: None };
    let rsp = liver_rsp(&cpu);
    let grid = liver_grid();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20261206);
    for base in [protons(), carbon()] {
        let engine = PencilBeamEngine::new(&base, &rsp);
        let mut cases = vec![two_beams(&base.energies_mev_u)];
        cases.extend((0..4).map(|_| random_beams(&mut rng, &base.energies_mev_u, 5..60)));
        // More spots than `dose_by_segments` takes in one pass.
        cases.push(random_beams(&mut rng, &base.energies_mev_u, 1100..1200));
        for beams in cases {
            let input = engine.kernel_input(&beams, &grid, &cpu).unwrap();
            let kernel = input.dose(&cpu).unwrap();
            let segments = dose_by_segments(&input, &grid).unwrap();
            let (worst, max) = largest_difference(&kernel, &segments);
            let n_spots: usize = beams.iter().map(|b| b.spots.len()).sum();
            eprintln!(
                "Z = {}, {} beams, {n_spots} spots: max {max:.4} Gy, max |segments − kernel| {:.2e} of it",
                base.ion.z,
                beams.len(),
                worst / max
            );
            assert!(max > 0.0);
            assert!(worst <= 1e-5 * max, "{worst} vs {max}");
        }
    }
}
