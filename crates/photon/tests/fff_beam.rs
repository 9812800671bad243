//! The generic 10 MV flattening-filter-free beam in water, through the whole
//! engine (apertures, divergence, kernel, off-axis cone, MU calibration),
//! against measured off-axis ratios.

use ferrodose_gpu::Backend;
use ferrodose_grid::{Grid, Point3, Volume};
use ferrodose_photon::engine::{reference_field, water_axis};
use ferrodose_photon::{PhotonEngine, PhotonMachine};

fn cpu() -> Backend {
    Backend::Cpu { reason: None }
}

/// Off-axis ratios of a 10 MV FFF beam measured at SSD 90 cm (J Appl Clin
/// Med Phys 17(3):358–370, 2016, Table 4): square field side (cm) and the
/// ratio at d_max, 5, 10 and 20 cm depth. We read each as the dose at 80 %
/// of the half field over the dose on the axis (docs/photon.md).
const MEASURED_OAR: [(f64, [f64; 4]); 9] = [
    (2.0, [0.915, 0.913, 0.912, 0.912]),
    (4.0, [0.947, 0.943, 0.941, 0.943]),
    (10.0, [0.827, 0.818, 0.808, 0.803]),
    (15.0, [0.748, 0.741, 0.730, 0.721]),
    (20.0, [0.669, 0.664, 0.656, 0.647]),
    (25.0, [0.607, 0.602, 0.595, 0.582]),
    (30.0, [0.550, 0.545, 0.542, 0.533]),
    (35.0, [0.502, 0.497, 0.489, 0.486]),
    (40.0, [0.459, 0.456, 0.452, 0.443]),
];

/// The depths (mm) of [`MEASURED_OAR`]'s columns; d_max is the model's for
/// 10 × 10 cm² (24.5 mm at SSD 100 cm), rounded.
const DEPTHS_MM: [f64; 4] = [24.0, 50.0, 100.0, 200.0];

/// A water tank 600 × 600 mm wide, its surface 100 mm above the isocentre
/// (SSD 90 cm), 320 mm deep, 4 mm voxels.
fn tank_ssd90() -> Volume<f32> {
    let g = Grid::axial(
        [150, 80, 150],
        [4.0, 4.0, 4.0],
        Point3::new(-298.0, -98.0, -298.0),
    )
    .expect("valid grid");
    Volume::filled(g, 1.0)
}

/// The ratio of the dose at 80 % of the half field (at the isocentre plane,
/// projected to the depth) to the dose on the axis, for a square field of
/// side `side_cm` at SSD 90 cm and depth `depth_mm`.
fn oar(m: &PhotonMachine, engine: &PhotonEngine, side_cm: f64, depth_mm: f64) -> f64 {
    let half = 5.0 * side_cm;
    let x = 0.8 * half * (900.0 + depth_mm) / 1000.0;
    let line = Grid::axial(
        [2, 1, 1],
        [x, 1.0, 1.0],
        Point3::new(0.0, depth_mm - 100.0, 0.0),
    )
    .unwrap();
    let d = engine
        .dose(&[reference_field(m, half, 100.0)], &line, &cpu())
        .unwrap();
    f64::from(d.data()[1]) / f64::from(d.data()[0])
}

/// Fields of 4 × 4 to 40 × 40 cm²: at d_max, where the cone was fitted,
/// within 0.005; at 5, 10 and 20 cm, which the fit did not see, within 0.03
/// (the model has one spectrum everywhere, while the measured ratios fall
/// with depth as the beam softens off axis). The 2 × 2 cm² field, not
/// fitted, whose point lies 1.8 mm inside the field edge: within 0.035 at
/// every depth (the model's small-field penumbra is wider: docs/photon.md).
#[test]
fn off_axis_ratios_match_measurement() {
    let m = PhotonMachine::generic_10mv_fff();
    let tank = tank_ssd90();
    let engine = PhotonEngine::new(&m, &tank);
    for (side, measured) in MEASURED_OAR {
        let model = DEPTHS_MM.map(|d| oar(&m, &engine, side, d));
        eprintln!("{side} cm: model {model:.3?}, measured {measured:.3?}");
        for (k, (a, b)) in model.iter().zip(measured).enumerate() {
            let tolerance = match (side < 3.0, k) {
                (true, _) => 0.035,
                (false, 0) => 0.005,
                (false, _) => 0.03,
            };
            assert!(
                (a - b).abs() <= tolerance,
                "{side} cm at {} mm: {a:.3} vs {b:.3}",
                DEPTHS_MM[k]
            );
        }
    }
}

/// 10 × 10 cm², SSD 100 cm: the harder 10 MeV spectrum puts the maximum
/// deeper (by more than 5 mm) and the 10 cm dose higher (by more than 2
/// points) than the 6 MV beam's; 100 MU give 1.000 Gy at the maximum (the
/// MU calibration, 0.5 %).
#[test]
fn depth_dose_is_harder_than_6mv_and_calibrated() {
    let (tank, axis) = water_axis(1.0, 300.0);
    let measure = |m: &PhotonMachine| {
        let engine = PhotonEngine::new(m, &tank);
        let d = engine
            .dose(&[reference_field(m, 50.0, 100.0)], &axis, &cpu())
            .unwrap();
        let d = d.data();
        let (i, max) = d
            .iter()
            .enumerate()
            .fold((0, 0.0f32), |a, (i, v)| if *v > a.1 { (i, *v) } else { a });
        let pdd10 = 100.0 * f64::from(d[99] + d[100]) / 2.0 / f64::from(max);
        (i as f64 + 0.5, pdd10, f64::from(max))
    };
    let (dmax6, pdd6, _) = measure(&PhotonMachine::generic_6mv());
    let (dmax10, pdd10, max) = measure(&PhotonMachine::generic_10mv_fff());
    eprintln!("10 MV FFF: dmax {dmax10} mm, PDD10 {pdd10:.2} %, {max} Gy per 100 MU; 6 MV: {dmax6} mm, {pdd6:.2} %");
    assert!(dmax10 > dmax6 + 5.0, "{dmax10} vs {dmax6}");
    assert!(pdd10 > pdd6 + 2.0, "{pdd10} vs {pdd6}");
    assert!((max - 1.0).abs() < 0.005, "{max} Gy per 100 MU");
}
