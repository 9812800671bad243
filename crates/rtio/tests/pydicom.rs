//! An independent reader, pydicom, reads what ferrodose writes
//! (`scripts/pydicom_check.py`). Skipped with a message when python3 with pydicom
//! and numpy is missing, unless `FERRODOSE_REQUIRE_PYDICOM=1` (set by `.ci/run`).

use ferrodose_grid::{Grid, PatientPosition, Point3, Volume};
use ferrodose_rtio::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pydicom_check.py")
}

fn pydicom_available() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import pydicom, numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok && std::env::var("FERRODOSE_REQUIRE_PYDICOM").as_deref() == Ok("1") {
        panic!("FERRODOSE_REQUIRE_PYDICOM=1 but python3 cannot import pydicom and numpy");
    }
    if !ok {
        eprintln!("skipped: python3 with pydicom and numpy not found");
    }
    ok
}

#[test]
fn pydicom_reads_rt_dose_within_half_a_step() {
    if !pydicom_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let grid = Grid::axial(
        [31, 23, 17],
        [2.5, 3.0, 2.0],
        Point3::new(-40.0, -30.0, -16.0),
    )
    .unwrap();
    // A smooth "dose" with a hot spot and a zero region, 0 to 57 Gy.
    let dose: Vec<f32> = (0..grid.len())
        .map(|n| {
            let [i, j, k] = grid.ijk(n);
            let p = grid.voxel_centre(i, j, k);
            let r2 = p.x * p.x + p.y * p.y + p.z * p.z;
            if p.x > 30.0 {
                0.0
            } else {
                (57.0 * (-r2 / 800.0).exp()) as f32
            }
        })
        .collect();
    let for_uid = new_uid();
    let info = SeriesInfo {
        patient_name: "TEST^PYDICOM".into(),
        patient_id: "PD-1".into(),
        study_instance_uid: new_uid(),
        series_instance_uid: new_uid(),
        frame_of_reference_uid: for_uid.clone(),
        patient_position: PatientPosition::Hfs,
        slice_instance_uids: vec![],
    };
    let rt = RtDose {
        dose_gy: Volume::from_vec(grid, dose.clone()),
        dose_type: DoseType::Physical,
        summation: DoseSummation::Plan,
        frame_of_reference_uid: for_uid,
        referenced_plan_uid: None,
        comment: "dose to water".into(),
        scaling_gy: 0.0,
    };
    let path = dir.path().join("RTDOSE.dcm");
    write_rt_dose(&path, &rt, &info).unwrap();
    let expected: Vec<u8> = dose
        .iter()
        .flat_map(|d| f64::from(*d).to_le_bytes())
        .collect();
    let expected_path = dir.path().join("expected.f64");
    std::fs::write(&expected_path, expected).unwrap();
    let out = Command::new("python3")
        .arg(script())
        .arg("rtdose")
        .arg(&path)
        .arg(&expected_path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    eprintln!("{text}");
    assert!(out.status.success(), "{text}");
}
