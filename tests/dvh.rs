//! `ferrodose dvh` against an independent DVH calculator, dicompyler-core
//! 0.5 (`scripts/dicompyler_dvh.py`), on the TG-119 CT and structures with an
//! analytic dose on the CT grid (issue 6: within 1 % of volume at every dose).
//! Skipped when python3 cannot import dicompylercore, unless
//! `FERRODOSE_REQUIRE_DICOMPYLER=1` (set by `.ci/run`).

mod common;

use ferrodose_grid::Volume;
use ferrodose_rtio::{write_rt_dose, DoseSummation, DoseType, RtDose, Study};
use std::path::{Path, PathBuf};
use std::process::Command;

fn tg119_dicom() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tg119/dicom")
}

#[test]
fn dvh_agrees_with_dicompyler_on_tg119() {
    if !common::python_has("dicompylercore", "FERRODOSE_REQUIRE_DICOMPYLER") {
        return;
    }
    let study = Study::load(&tg119_dicom()).unwrap();
    let grid = study.ct.hu.grid().clone();
    let core = study
        .structures
        .as_ref()
        .unwrap()
        .get("Core")
        .unwrap()
        .mask
        .centroid_mm()
        .unwrap();
    // A Gaussian of σ 40 mm and 60 Gy on the core plus a lateral ramp of 10 Gy.
    let dose: Vec<f32> = (0..grid.len())
        .map(|n| {
            let [i, j, k] = grid.ijk(n);
            let p = grid.voxel_centre(i, j, k);
            let r2 = (p - core).norm_squared();
            (60.0 * (-r2 / (2.0 * 40.0f64.powi(2))).exp() + 10.0 * (p.x + 250.0) / 500.0) as f32
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let rtdose = dir.path().join("RD.dcm");
    write_rt_dose(
        &rtdose,
        &RtDose {
            dose_gy: Volume::from_vec(grid, dose),
            dose_type: DoseType::Physical,
            summation: DoseSummation::Plan,
            frame_of_reference_uid: study.ct.info.frame_of_reference_uid.clone(),
            referenced_plan_uid: None,
            comment: "analytic test dose".into(),
            scaling_gy: 0.0,
        },
        &study.ct.info,
    )
    .unwrap();
    let csv = dir.path().join("dvh.csv");
    let o = Command::new(env!("CARGO_BIN_EXE_ferrodose"))
        .args(["dvh", rtdose.to_str().unwrap()])
        .arg(tg119_dicom())
        .args(["--csv", csv.to_str().unwrap(), "--step", "0.01"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    println!("{}", String::from_utf8_lossy(&o.stdout));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/dicompyler_dvh.py");
    let o = Command::new("python3")
        .arg(script)
        .arg(tg119_dicom().join("RS_TG119.dcm"))
        .arg(&rtdose)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let reference: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();

    let ours = std::fs::read_to_string(&csv).unwrap();
    for (name, r) in reference.as_object().unwrap() {
        let bin = r["bin_gy"].as_f64().unwrap();
        let pct: Vec<f64> = r["pct"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let curve: Vec<(f64, f64)> = ours
            .lines()
            .skip(1)
            .filter(|l| l.split(',').next() == Some(name))
            .map(|l| {
                let f: Vec<f64> = l.split(',').skip(1).map(|v| v.parse().unwrap()).collect();
                (f[0], f[1])
            })
            .collect();
        assert!(!curve.is_empty(), "no ferrodose DVH for {name}");
        // Compare at every 0.01 Gy bin of dicompyler's curve (ours is 0 beyond its maximum).
        let mut worst: (f64, f64) = (0.0, 0.0);
        for (i, p) in pct.iter().enumerate() {
            let d = i as f64 * bin;
            let k = (d / 0.01).round() as usize;
            let v = curve.get(k).map_or(0.0, |c| c.1);
            if (v - p).abs() > worst.0 {
                worst = ((v - p).abs(), d);
            }
        }
        eprintln!(
            "{name}: dicompyler volume {:.2} cc, max |ΔV| {:.3} % at {:.2} Gy",
            r["volume_cc"].as_f64().unwrap(),
            worst.0,
            worst.1
        );
        assert!(
            worst.0 <= 1.0,
            "{name}: |ΔV| {} % at {} Gy",
            worst.0,
            worst.1
        );
    }
}
