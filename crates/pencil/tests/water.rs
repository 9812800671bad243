//! The ion pencil-beam engine against its physics: range in water (protons
//! and carbon), lateral spread at mid-range, range shift behind bone (issue 4
//! accuracy targets).

use ferrodose_gpu::Backend;
use ferrodose_grid::{BeamGeometry, Grid, PatientPosition, Point3, Volume};
use ferrodose_pencil::{
    cutoff_sigmas2, BeamSpots, IonBaseData, PencilBeamEngine, Quantity, Spot,
    LATERAL_CUTOFF_FRACTION,
};
use ferrodose_physics::scattering::{pencil_beam_spread, WATER_RADIATION_LENGTH_G_CM2};
use ferrodose_physics::{Ion, Material, RangeTable};

const CPU: Backend = Backend::Cpu { reason: None };

/// Gantry 0° on an HFS patient: the beam travels +y; isocentre at the origin.
fn beam(energy: f64, x_mm: f64, sigma_air_mm: f64) -> BeamSpots {
    BeamSpots {
        geometry: BeamGeometry::coplanar(0.0, Point3::origin(), PatientPosition::Hfs),
        sigma_air_mm,
        virtual_source_mm: None,
        spots: vec![Spot {
            energy_mev_u: energy,
            x_mm,
            y_mm: 0.0,
            weight: 1e9,
        }],
    }
}

/// A water block (RSP 1) from y = 0 (surface) to 360 mm, 62 mm wide in x and z.
fn water_rsp() -> Volume<f32> {
    let g = Grid::axial(
        [31, 360, 31],
        [2.0, 1.0, 2.0],
        Point3::new(-30.0, 0.5, -30.0),
    )
    .unwrap();
    Volume::filled(g, 1.0)
}

/// Dose grid along the beam through (x0, 0): lateral ±25 mm in x and z, fine in depth.
fn depth_grid(x0: f64, depth_mm: f64, lateral_mm: f64) -> Grid {
    let n_lat = (50.0 / lateral_mm) as usize + 1;
    Grid::axial(
        [n_lat, (depth_mm / 0.25) as usize, n_lat],
        [lateral_mm, 0.25, lateral_mm],
        Point3::new(x0 - 25.0, 0.125, -25.0),
    )
    .unwrap()
}

/// Dose of one central spot (σ_air 3 mm) in the plane at `depth_mm`,
/// `spacing_mm` voxels over ±`half_width_mm`.
fn plane_dose(
    engine: &PencilBeamEngine,
    energy: f64,
    depth_mm: f64,
    spacing_mm: f64,
    half_width_mm: f64,
) -> Volume<f32> {
    let n = (2.0 * half_width_mm / spacing_mm).round() as usize + 1;
    let grid = Grid::axial(
        [n, 1, n],
        [spacing_mm, 1.0, spacing_mm],
        Point3::new(-half_width_mm, depth_mm, -half_width_mm),
    )
    .unwrap();
    engine.dose(&[beam(energy, 0.0, 3.0)], &grid, &CPU).unwrap()
}

/// Depth (mm) and laterally integrated dose, and R80 of that curve.
fn integrated_r80(dose: &Volume<f32>) -> f64 {
    let g = dose.grid();
    let [nx, ny, nz] = g.shape();
    let curve: Vec<f64> = (0..ny)
        .map(|j| {
            (0..nz)
                .flat_map(|k| (0..nx).map(move |i| (i, k)))
                .map(|(i, k)| f64::from(*dose.get(i, j, k)))
                .sum()
        })
        .collect();
    let (peak_j, peak) = curve
        .iter()
        .enumerate()
        .fold((0, 0.0), |b, (j, &v)| if v > b.1 { (j, v) } else { b });
    let y = |j: usize| g.voxel_centre(0, j, 0).y;
    for j in peak_j..ny - 1 {
        if curve[j] >= 0.8 * peak && curve[j + 1] < 0.8 * peak {
            return y(j) + (curve[j] - 0.8 * peak) / (curve[j] - curve[j + 1]) * (y(j + 1) - y(j));
        }
    }
    panic!("no distal 80 % point");
}

/// R80 of one spot per energy of `base` in water against the CSDA range of
/// the same physics, within 0.5 mm.
fn assert_r80_at_csda_range(base: &IonBaseData) {
    let rsp = water_rsp();
    let engine = PencilBeamEngine::new(base, &rsp);
    for (row, e) in base.energies_mev_u.iter().enumerate() {
        let grid = depth_grid(0.0, base.csda_mm[row] + 15.0, 2.0);
        let dose = engine.dose(&[beam(*e, 0.0, 3.0)], &grid, &CPU).unwrap();
        let r80 = integrated_r80(&dose);
        let diff = r80 - base.csda_mm[row];
        eprintln!(
            "Z = {}, {e} MeV/u: R80 {r80:.2} mm, CSDA {:.2} mm ({diff:+.3} mm)",
            base.ion.z, base.csda_mm[row]
        );
        assert!(
            diff.abs() < 0.5,
            "{e} MeV/u: R80 {r80} vs CSDA {}",
            base.csda_mm[row]
        );
    }
}

/// Issue 4: a single proton spot in water has R80 within 0.5 mm of the physics
/// crate's CSDA range, 70–230 MeV.
#[test]
fn single_spot_r80_in_water() {
    assert_r80_at_csda_range(&IonBaseData::protons(&[70.0, 150.0, 230.0], |_| 0.0, 0.1).unwrap());
}

/// The same for ¹²C spots, 120–400 MeV/u (fragment tail included).
#[test]
fn carbon_spot_r80_in_water() {
    assert_r80_at_csda_range(&IonBaseData::carbon(&[120.0, 290.0, 400.0], |_| 0.0, 0.1).unwrap());
}

/// The r.m.s. x (mm) of a plane's dose and the dose's sum.
fn second_moment(dose: &Volume<f32>) -> (f64, f64) {
    let grid = dose.grid();
    let (mut sum, mut sxx) = (0.0, 0.0);
    for (n, d) in dose.data().iter().enumerate() {
        let [i, _, k] = grid.ijk(n);
        let p = grid.voxel_centre(i, 0, k);
        sum += f64::from(*d);
        sxx += f64::from(*d) * p.x * p.x;
    }
    ((sxx / sum).sqrt(), sum)
}

/// The base data with the tail's share of the dose removed: the primaries'
/// core alone.
fn core_only(mut base: IonBaseData) -> IonBaseData {
    let tail = &mut base.tail[Quantity::Dose as usize];
    for (all, t) in base.idd.iter_mut().zip(tail.iter_mut()) {
        *all -= *t;
        *t = 0.0;
    }
    base
}

/// Issue 4: the lateral σ of the primaries' core at mid-range in water within
/// 5 % of the Fermi–Eyges/Highland prediction √(σ_air² + σ_MCS²) (the
/// `pencil_beam_spread` of the physics crate, a separate implementation),
/// with a cut-off far out (10⁻⁷ of the dose).
///
/// With the nuclear halo and the default cut-off the whole profile's r.m.s.
/// width is that of two truncated 2-D Gaussians, within 2 %:
/// rms² = [(1 − h)σ² m(a) + h T² m(b)] / [(1 − h)(1 − e^(−a)) + h(1 − e^(−b))],
/// T² = σ² + σ_halo², m(x) = 1 − e^(−x)(1 + x) for a Gaussian cut at radius
/// √(2x) of its σ (a, b from `cutoff_sigmas2`), h the halo's share of the IDD.
#[test]
fn lateral_sigma_at_mid_range() {
    let e = 150.0;
    let base = IonBaseData::protons(&[e], |_| 0.0, 0.1).unwrap();
    let rsp = water_rsp();
    let mid = base.csda_mm[0] / 2.0;
    let core = core_only(base.clone());
    let mut far = PencilBeamEngine::new(&core, &rsp);
    far.lateral_cutoff_fraction = 1e-7;
    let (sigma, _) = second_moment(&plane_dose(&far, e, mid, 0.5, 25.0));
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 200.0).unwrap();
    let (_, mcs_cm) =
        pencil_beam_spread(&table, e, mid / 10.0, WATER_RADIATION_LENGTH_G_CM2).unwrap();
    let expected = (3.0f64.powi(2) + (mcs_cm * 10.0).powi(2)).sqrt();
    eprintln!("core σ at {mid:.1} mm: {sigma:.3} mm, predicted {expected:.3} mm");
    assert!(
        (sigma / expected - 1.0).abs() < 0.05,
        "{sigma} vs {expected}"
    );

    let engine = PencilBeamEngine::new(&base, &rsp);
    let (rms, _) = second_moment(&plane_dose(&engine, e, mid, 1.0, 90.0));
    let i = (mid / base.depth_step_mm).round() as usize;
    let h = f64::from(base.tail[Quantity::Dose as usize][i] / base.idd[i]);
    let t2 = expected.powi(2) + f64::from(base.tail_sigma_mm[i]).powi(2);
    let a = cutoff_sigmas2(1.0, LATERAL_CUTOFF_FRACTION) / 2.0;
    let b = cutoff_sigmas2(h, LATERAL_CUTOFF_FRACTION) / 2.0;
    let m = |x: f64| 1.0 - (-x).exp() * (1.0 + x);
    let kept = |x: f64| 1.0 - (-x).exp();
    let want = (((1.0 - h) * expected.powi(2) * m(a) + h * t2 * m(b))
        / ((1.0 - h) * kept(a) + h * kept(b)))
    .sqrt();
    eprintln!(
        "with the halo (share {h:.3}, σ_halo {:.2} mm, cut at {:.2}σ and {:.2}T): r.m.s. {rms:.3} mm, truncated double Gaussian {want:.3} mm",
        base.tail_sigma_mm[i],
        (2.0 * a).sqrt(),
        (2.0 * b).sqrt()
    );
    assert!((rms / want - 1.0).abs() < 0.02, "{rms} vs {want}");
}

/// Issue 4: behind the 2 cm bone slab of the `slab` phantom the range shortens
/// by (RSP_bone − 1) × 20 mm, within 0.5 mm. Bone RSP from the Schneider
/// calibration at +1000 HU; the rest of the body is water (RSP 1).
#[test]
fn range_shift_behind_bone_slab() {
    let e = 150.0;
    let base = IonBaseData::protons(&[e], |_| 0.0, 0.1).unwrap();
    let phantom = ferrodose_phantom::Phantom::builtin("slab")
        .unwrap()
        .build()
        .unwrap();
    let rsp_bone = ferrodose_physics::calibration::relative_stopping_power(1000.0) as f32;
    let (body, bone) = (
        phantom.roi("BODY").unwrap(),
        phantom.roi("Bone_slab").unwrap(),
    );
    let with_slab = Volume::from_vec(
        phantom.hu.grid().clone(),
        body.data()
            .iter()
            .zip(bone.data())
            .map(|(b, s)| {
                if *s {
                    rsp_bone
                } else if *b {
                    1.0
                } else {
                    0.001
                }
            })
            .collect(),
    );
    let water_only = body.map(|b| if *b { 1.0f32 } else { 0.001 });
    let x0 = -75.0;
    // The phantom's anterior surface is at y = −150 mm.
    let grid = Grid::axial(
        [26, 800, 26],
        [2.0, 0.25, 2.0],
        Point3::new(x0 - 25.0, -150.0 + 0.125, -25.0),
    )
    .unwrap();
    let r80 = |rsp: &Volume<f32>| {
        integrated_r80(
            &PencilBeamEngine::new(&base, rsp)
                .dose(&[beam(e, x0, 3.0)], &grid, &CPU)
                .unwrap(),
        )
    };
    let shift = r80(&water_only) - r80(&with_slab);
    let expected = (f64::from(rsp_bone) - 1.0) * 20.0;
    eprintln!("range shift {shift:.3} mm, expected {expected:.3} mm (RSP {rsp_bone:.4})");
    assert!((shift - expected).abs() < 0.5, "{shift} vs {expected}");
}

/// Absolute dose: the laterally integrated dose equals the IDD × fluence
/// (weight / area integrates out) at a plateau depth, to 1 % (the lateral
/// cut-off leaves out at most 0.5 %).
#[test]
fn integrated_dose_matches_idd() {
    let e = 150.0;
    let base = IonBaseData::protons(&[e], |_| 0.0, 0.1).unwrap();
    let rsp = water_rsp();
    let depth = 50.0;
    let dose = plane_dose(&PencilBeamEngine::new(&base, &rsp), e, depth, 1.0, 90.0);
    // Σ D·dA (Gy·mm²) = weight × IDD (MeV·cm²/g) × 1.602e-10 Gy·g/MeV × 100 mm²/cm².
    let integral: f64 = dose.data().iter().map(|d| f64::from(*d)).sum();
    let idd = f64::from(base.idd[(depth / base.depth_step_mm) as usize]);
    let expected = 1e9 * idd * 1.602_176_634e-10 * 100.0;
    assert!(
        (integral / expected - 1.0).abs() < 0.01,
        "{integral} vs {expected}"
    );
}

/// Beam divergence: a spot aimed at x = 20 mm in the isocentre plane (the
/// water surface) from a virtual source 1000 mm upstream is centred at
/// 20·(1000 + d)/1000 mm at depth d (22 mm at 100 mm), within 0.05 mm; the
/// parallel spot stays at 20 mm.
#[test]
fn diverging_spot_moves_outward_with_depth() {
    let base = IonBaseData::protons(&[150.0], |_| 0.0, 0.1).unwrap();
    let rsp = water_rsp();
    let grid = Grid::axial(
        [101, 1, 61],
        [0.5, 1.0, 0.5],
        Point3::new(-3.0, 100.0, -15.0),
    )
    .unwrap();
    for (sad, expected) in [(None, 20.0), (Some(1000.0), 22.0)] {
        let mut b = beam(150.0, 20.0, 3.0);
        b.virtual_source_mm = sad;
        let dose = PencilBeamEngine::new(&base, &rsp)
            .dose(&[b], &grid, &CPU)
            .unwrap();
        let (mut sum, mut sx) = (0.0, 0.0);
        for (n, d) in dose.data().iter().enumerate() {
            let [i, j, k] = grid.ijk(n);
            sum += f64::from(*d);
            sx += f64::from(*d) * grid.voxel_centre(i, j, k).x;
        }
        let centre = sx / sum;
        eprintln!("SAD {sad:?}: centre at depth 100 mm {centre:.3} mm (expected {expected})");
        assert!((centre - expected).abs() < 0.05, "{centre} vs {expected}");
    }
}
