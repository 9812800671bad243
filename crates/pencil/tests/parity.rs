//! GPU against CPU twin for a realistic case: two proton or carbon beams on
//! the built-in liver phantom (Schneider RSP), spots over the PTV's extent,
//! for every depth table (dose, RBE-weighted, α- and LET-weighted dose).
//! Tolerance: 1e-4 of the maximum, voxel by voxel (issue 4).

use ferrodose_gpu::{Backend, GpuContext, PiecewiseLinear};
use ferrodose_grid::{BeamGeometry, PatientPosition, Point3, Volume};
use ferrodose_pencil::{BeamSpots, IonBaseData, PencilBeamEngine, Quantity, Spot};

#[test]
fn liver_two_proton_beams_gpu_matches_cpu() {
    let energies = [110.0, 130.0, 150.0];
    liver_two_beams(&IonBaseData::protons(&energies, |_| 0.008, 0.5).unwrap());
}

#[test]
fn liver_two_carbon_beams_gpu_matches_cpu() {
    let energies = [200.0, 230.0, 260.0];
    liver_two_beams(&IonBaseData::carbon(&energies, |_| 0.008, 0.5).unwrap());
}

fn liver_two_beams(base: &IonBaseData) {
    let energies = &base.energies_mev_u;
    let Some(ctx) = GpuContext::for_tests("pencil_liver_parity") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let cpu = Backend::Cpu { reason: None };
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
        .apply(&gpu, phantom.hu.data())
        .unwrap();
    let rsp = Volume::from_vec(phantom.hu.grid().clone(), rsp);
    let target = Point3::new(-85.0, 0.0, 25.0);
    let beams: Vec<BeamSpots> = [270.0, 180.0]
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
        .collect();
    // A 5 mm dose grid around the target.
    let grid =
        ferrodose_grid::Grid::axial([40, 36, 30], [5.0; 3], Point3::new(-180.0, -90.0, -50.0))
            .unwrap();
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
        let max = c.data().iter().fold(0.0f32, |m, v| m.max(*v));
        let worst = g
            .data()
            .iter()
            .zip(c.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
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
