//! Spot placement on the liver phantom and TG-119.

use ferrodose_gpu::{Backend, PiecewiseLinear, WedProfiles, WedRay};
use ferrodose_grid::{BeamGeometry, PatientPosition, Point3, Volume};
use ferrodose_pencil::{place_spots, PlacementSettings};
use ferrodose_physics::{Ion, Material, RangeTable};

fn rsp_of(hu: &Volume<f32>) -> Volume<f32> {
    let knots = ferrodose_physics::calibration::knots(
        5.0,
        ferrodose_physics::calibration::relative_stopping_power,
    );
    let data = PiecewiseLinear::new(knots)
        .unwrap()
        .apply(&Backend::Cpu { reason: None }, hu.data())
        .unwrap();
    Volume::from_vec(hu.grid().clone(), data)
}

/// A machine delivering every energy from `lo` to `hi` (MeV/u).
fn within(lo: f64, hi: f64) -> impl Fn(f64) -> Option<f64> {
    move |e| (lo..=hi).contains(&e).then_some(e)
}

fn geometry(gantry: f64, iso: Point3<f64>) -> BeamGeometry {
    BeamGeometry::coplanar(gantry, iso, PatientPosition::Hfs)
}

/// Every PTV voxel is laterally within half a diagonal of the spot grid of
/// some spot position, and along every spot position's ray the layers' ranges
/// reach from above the proximal to beyond the distal edge of the PTV.
#[test]
fn liver_spots_cover_the_ptv() {
    let p = ferrodose_phantom::Phantom::builtin("liver")
        .unwrap()
        .build()
        .unwrap();
    let ptv = p.roi("PTV").unwrap();
    let rsp = rsp_of(&p.hu);
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
    let settings = PlacementSettings::for_spot_sigma(4.0);
    for gantry in [270.0, 180.0] {
        let geo = geometry(gantry, ptv.centroid_mm().unwrap());
        let placed = place_spots(ptv, &rsp, &geo, &table, &within(70.0, 230.0), &settings);
        assert!(!placed.spots.is_empty());
        assert_eq!(placed.dropped_layers, 0);
        assert!(placed
            .energies_mev_u
            .iter()
            .all(|e| (70.0..=230.0).contains(e)));
        let frame = geo.frame();
        // Lateral coverage.
        let half_diag = settings.lateral_spacing_mm * std::f64::consts::FRAC_1_SQRT_2 + 1e-9;
        let g = ptv.grid();
        for (n, _) in ptv.data().iter().enumerate().filter(|(_, b)| **b) {
            let [i, j, k] = g.ijk(n);
            let b = frame.patient_to_beam(&g.voxel_centre(i, j, k));
            let near = placed
                .spots
                .iter()
                .any(|s| (s.x_mm - b.x).abs() <= half_diag && (s.y_mm - b.y).abs() <= half_diag);
            assert!(
                near,
                "gantry {gantry}: PTV voxel at BEV ({:.1}, {:.1}) has no spot nearby",
                b.x, b.y
            );
        }
        // Depth coverage along each position's ray.
        let mut positions: Vec<(f64, f64)> =
            placed.spots.iter().map(|s| (s.x_mm, s.y_mm)).collect();
        positions.sort_by(|a, b| a.partial_cmp(b).unwrap());
        positions.dedup();
        let dir = frame.direction();
        let mut checked = 0;
        for (x, y) in positions {
            let (_, ray) = frame
                .aimed_ray(rsp.grid(), (x, y), None, 2000.0, 0.5)
                .unwrap();
            let wed = WedProfiles::new(
                rsp.grid().shape(),
                vec![WedRay::new(
                    ray.entry_index,
                    ray.index_per_mm,
                    0.5,
                    ray.n_samples,
                )],
            )
            .trace(&Backend::Cpu { reason: None }, rsp.data())
            .unwrap();
            let in_ptv: Vec<f64> = wed
                .iter()
                .enumerate()
                .filter(|(k, _)| {
                    g.voxel_of(&(ray.entry_mm + dir * (*k as f64 * 0.5)))
                        .is_some_and(|[i, j, k]| *ptv.get(i, j, k))
                })
                .map(|(_, w)| f64::from(*w))
                .collect();
            let Some(w1) = in_ptv.iter().copied().reduce(f64::max) else {
                continue;
            };
            let w0 = in_ptv.iter().copied().reduce(f64::min).unwrap();
            let ranges: Vec<f64> = placed
                .spots
                .iter()
                .filter(|s| s.x_mm == x && s.y_mm == y)
                .map(|s| table.csda_range(s.energy_mev_u).unwrap() * 10.0)
                .collect();
            let (rmin, rmax) = ranges
                .iter()
                .fold((f64::MAX, 0.0f64), |(a, b), r| (a.min(*r), b.max(*r)));
            assert!(rmax >= w1 && rmin <= w0 + settings.layer_spacing_mm, "gantry {gantry}, ({x}, {y}): layers {rmin:.1}–{rmax:.1} mm vs PTV {w0:.1}–{w1:.1} mm");
            checked += 1;
        }
        assert!(checked > 20);
        eprintln!(
            "liver gantry {gantry}: {} spots in {} layers ({:.1}–{:.1} MeV)",
            placed.spots.len(),
            placed.energies_mev_u.len(),
            placed.energies_mev_u[0],
            placed.energies_mev_u.last().unwrap()
        );
    }
}

/// The issue-4 benchmark set-up on TG-119 (three beams, 5 mm lateral spacing,
/// 3 mm layers): the spot count, which the issue puts at about 14 000 for
/// matRad's placement. Reported, and bounded within a factor of 1.5.
#[test]
fn tg119_three_beam_spot_count() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tg119/dicom");
    let study = ferrodose_rtio::Study::load(&dir).unwrap();
    let ss = study.structures.unwrap();
    let target = &ss.get("OuterTarget").unwrap().mask;
    let rsp = rsp_of(&study.ct.hu);
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
    let settings = PlacementSettings {
        lateral_spacing_mm: 5.0,
        layer_spacing_mm: 3.0,
        ..PlacementSettings::for_spot_sigma(4.0)
    };
    let iso = target.centroid_mm().unwrap();
    let total: usize = [0.0, 120.0, 240.0]
        .iter()
        .map(|&g| {
            place_spots(
                target,
                &rsp,
                &geometry(g, iso),
                &table,
                &within(70.0, 230.0),
                &settings,
            )
            .spots
            .len()
        })
        .sum();
    eprintln!("TG-119, 3 beams, 5 mm / 3 mm: {total} spots");
    assert!(
        (14_000.0 / 1.5..14_000.0 * 1.5).contains(&(total as f64)),
        "{total}"
    );
}
