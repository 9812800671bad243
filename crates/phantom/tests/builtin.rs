//! The built-in phantoms build and have the anatomy the issue asks for.

use ferrodose_phantom::{Phantom, BUILTIN};

#[test]
fn every_builtin_builds() {
    for name in BUILTIN {
        let p = Phantom::builtin(name).unwrap().build().unwrap();
        assert_eq!(p.name, name);
        assert!(p.roi("BODY").is_some());
    }
    assert!(Phantom::builtin("kidney")
        .unwrap_err()
        .to_string()
        .contains("water, slab, liver"));
}

#[test]
fn water_box_is_300_mm_of_water() {
    let p = Phantom::builtin("water").unwrap().build().unwrap();
    let body = p.roi("BODY").unwrap();
    assert!(
        (body.volume_cc() - 27_000.0).abs() < 1e-6,
        "{}",
        body.volume_cc()
    );
    let (lo, hi) = p.hu.min_max();
    assert_eq!((lo, hi), (-1000.0, 0.0));
}

#[test]
fn slab_phantom_has_bone_and_lung_slabs_side_by_side() {
    let p = Phantom::builtin("slab").unwrap().build().unwrap();
    // 2 cm × 15 cm × 30 cm bone, 4 cm × 15 cm × 30 cm lung.
    assert!((p.roi("Bone_slab").unwrap().volume_cc() - 900.0).abs() < 1e-6);
    assert!((p.roi("Lung_slab").unwrap().volume_cc() - 1800.0).abs() < 1e-6);
    assert_eq!(
        p.roi("Bone_slab")
            .unwrap()
            .intersection(p.roi("Lung_slab").unwrap())
            .count(),
        0
    );
}

#[test]
fn liver_phantom_anatomy() {
    let p = Phantom::builtin("liver").unwrap().build().unwrap();
    let roi = |n: &str| p.roi(n).unwrap_or_else(|| panic!("{n}"));
    let (gtv, ptv, liver, body) = (roi("GTV"), roi("PTV"), roi("Liver"), roi("BODY"));

    // GTV 5.6 cm ellipsoid: 4/3·π·28·27·29 mm³ = 91.8 cc (voxelisation within 3 %).
    let v_gtv = 4.0 / 3.0 * std::f64::consts::PI * 28.0 * 27.0 * 29.0 / 1000.0;
    assert!(
        (gtv.volume_cc() / v_gtv - 1.0).abs() < 0.03,
        "GTV {} cc",
        gtv.volume_cc()
    );
    // PTV = GTV + 5 mm ≈ ellipsoid with radii + 5 mm.
    let v_ptv = 4.0 / 3.0 * std::f64::consts::PI * 33.0 * 32.0 * 34.0 / 1000.0;
    assert!(
        (ptv.volume_cc() / v_ptv - 1.0).abs() < 0.03,
        "PTV {} cc",
        ptv.volume_cc()
    );
    assert_eq!(gtv.minus(ptv).count(), 0);

    // Tumour and thrombus inside the liver, all inside the body.
    assert_eq!(gtv.minus(liver).count(), 0);
    assert_eq!(roi("PVTT").minus(liver).count(), 0);
    for (r, m) in &p.rois {
        assert_eq!(m.minus(body).count(), 0, "{} leaves the body", r.name);
    }
    // Organs at risk do not overlap each other or the liver.
    let organs = [
        "Liver",
        "Stomach",
        "Duodenum",
        "Kidney_R",
        "Kidney_L",
        "SpinalCord",
        "Vertebra",
        "Ribs",
        "Lungs",
    ];
    let mut overlaps = Vec::new();
    for (n, a) in organs.iter().enumerate() {
        for b in &organs[n + 1..] {
            let overlap = roi(a).intersection(roi(b)).volume_cc();
            if overlap > 0.0 {
                overlaps.push(format!("{a} and {b} overlap by {overlap} cc"));
            }
        }
    }
    assert!(overlaps.is_empty(), "{overlaps:?}");
    // Plausible organ volumes (cc): adult liver 1200-2000, kidney 120-200.
    let lv = liver.volume_cc();
    assert!((1200.0..2100.0).contains(&lv), "liver {lv} cc");
    for k in ["Kidney_R", "Kidney_L"] {
        let v = roi(k).volume_cc();
        assert!((100.0..200.0).contains(&v), "{k} {v} cc");
    }

    // Lung bases sit above the liver dome in the right lobe's column.
    let g = p.hu.grid().clone();
    let [i, j, _] = g
        .voxel_of(&ferrodose_grid::Point3::new(-65.0, -5.0, 0.0))
        .unwrap();
    let top_liver = (0..g.shape()[2])
        .filter(|&k| *liver.get(i, j, k))
        .max()
        .unwrap();
    assert!(
        *roi("Lungs").get(i, j, top_liver + 1),
        "lung directly above the dome"
    );

    // Mean HU of each tissue is the painted value (no ROI is painted over by
    // another's HU, except the stomach's gas).
    let mean_hu = |m: &ferrodose_grid::Mask| {
        let (s, n) =
            p.hu.data()
                .iter()
                .zip(m.data())
                .filter(|(_, b)| **b)
                .fold((0.0, 0), |(s, n), (h, _)| (s + f64::from(*h), n + 1));
        s / f64::from(n)
    };
    assert!((mean_hu(gtv) - 35.0).abs() < 1e-9);
    assert!((mean_hu(&liver.minus(ptv).minus(roi("PVTT"))) - 60.0).abs() < 1e-9);
    assert!((mean_hu(roi("Lungs")) - (-850.0)).abs() < 1e-9);
    assert!((mean_hu(roi("Ribs")) - 700.0).abs() < 1e-9);
    assert!((mean_hu(roi("SpinalCord")) - 35.0).abs() < 1e-9);
    assert!(
        p.hu.data()
            .iter()
            .zip(roi("Stomach").data())
            .any(|(h, b)| *b && *h == -1000.0),
        "stomach gas"
    );
}
