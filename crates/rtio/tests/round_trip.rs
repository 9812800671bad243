//! Write → read round trips of CT series, RT Structure Set and RT Dose, and
//! refusal of bad input (truncated files, missing slices, foreign frames of reference).

use ferrodose_grid::{Grid, Mask, PatientPosition, Point3, Volume};
use ferrodose_rtio::*;
use std::path::Path;

fn small_ct(frame_of_reference: &str) -> CtSeries {
    let grid = Grid::axial([12, 10, 6], [2.0, 2.5, 3.0], Point3::new(-11.0, -9.0, 20.0)).unwrap();
    let hu = (0..grid.len())
        .map(|n| (n % 1500) as f32 - 1000.0)
        .collect();
    CtSeries {
        info: SeriesInfo {
            patient_name: "TEST^ROUNDTRIP".into(),
            patient_id: "RT-1".into(),
            study_instance_uid: new_uid(),
            series_instance_uid: new_uid(),
            frame_of_reference_uid: frame_of_reference.into(),
            patient_position: PatientPosition::Hfs,
            slice_instance_uids: (0..6).map(|_| new_uid()).collect(),
        },
        hu: Volume::from_vec(grid, hu),
    }
}

fn ring_mask(grid: &Grid) -> Mask {
    let mut m = Mask::filled(grid.clone(), false);
    for k in 1..5 {
        for j in 1..9 {
            for i in 1..11 {
                let hole = (4..7).contains(&i) && (4..6).contains(&j) && k == 2;
                *m.get_mut(i, j, k) = !hole;
            }
        }
    }
    m
}

fn write_study(dir: &Path, ct: &CtSeries) -> Mask {
    write_ct_series(dir, ct).unwrap();
    let ring = ring_mask(ct.hu.grid());
    let rois = [RoiOut {
        name: "Ring",
        interpreted_type: "ORGAN",
        colour: [255, 0, 0],
        mask: &ring,
    }];
    write_structure_set(&dir.join("RS.dcm"), ct, "test", &rois).unwrap();
    ring
}

#[test]
fn ct_and_structures_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let ct = small_ct(&new_uid());
    let ring = write_study(dir.path(), &ct);
    std::fs::write(dir.path().join("notes.txt"), "not DICOM").unwrap();
    let study = Study::load(dir.path()).unwrap();
    assert!(study.ct.hu.grid().same_as(ct.hu.grid(), 1e-9));
    assert_eq!(study.ct.hu.data(), ct.hu.data());
    assert_eq!(study.ct.info, ct.info);
    let ss = study.structures.unwrap();
    assert_eq!(ss.get("Ring").unwrap().mask, ring);
    assert_eq!(study.ignored.len(), 1);
}

#[test]
fn rt_dose_round_trip_within_half_a_step() {
    let dir = tempfile::tempdir().unwrap();
    let ct = small_ct(&new_uid());
    let grid = Grid::axial([7, 5, 4], [2.5, 2.5, 3.0], Point3::new(-5.0, 0.0, 21.0)).unwrap();
    let dose = Volume::from_vec(
        grid.clone(),
        (0..grid.len())
            .map(|n| (n as f32 * 0.37).sin().abs() * 62.5)
            .collect(),
    );
    let rt = RtDose {
        dose_gy: dose.clone(),
        dose_type: DoseType::Effective,
        summation: DoseSummation::Plan,
        frame_of_reference_uid: ct.info.frame_of_reference_uid.clone(),
        referenced_plan_uid: Some(new_uid()),
        comment: "dose to water".into(),
        scaling_gy: 0.0,
    };
    let path = dir.path().join("RTDOSE.dcm");
    let scaling = write_rt_dose(&path, &rt, &ct.info).unwrap();
    assert!(scaling > 0.0 && scaling < 62.5 / 4.0e9);
    let back = read_rt_dose(&path).unwrap();
    assert_eq!(back.scaling_gy, scaling);
    assert!(back.dose_gy.grid().same_as(&grid, 1e-9));
    assert_eq!(back.dose_type, DoseType::Effective);
    assert_eq!(back.referenced_plan_uid, rt.referenced_plan_uid);
    for (a, b) in dose.data().iter().zip(back.dose_gy.data()) {
        // Half a quantisation step, plus f32 rounding of the read value.
        assert!(
            f64::from((a - b).abs()) <= 0.5 * scaling + f64::from(a.abs()) * 1e-7,
            "{a} vs {b}"
        );
    }
    // No temporary file is left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn negative_or_nan_dose_is_refused() {
    let ct = small_ct(&new_uid());
    let grid = Grid::axial([2, 2, 2], [1.0; 3], Point3::origin()).unwrap();
    let mut d = Volume::filled(grid, 1.0f32);
    *d.get_mut(1, 0, 1) = -0.5;
    let rt = RtDose {
        dose_gy: d,
        dose_type: DoseType::Physical,
        summation: DoseSummation::Plan,
        frame_of_reference_uid: ct.info.frame_of_reference_uid.clone(),
        referenced_plan_uid: None,
        comment: String::new(),
        scaling_gy: 0.0,
    };
    let dir = tempfile::tempdir().unwrap();
    let e = write_rt_dose(&dir.path().join("d.dcm"), &rt, &ct.info)
        .unwrap_err()
        .to_string();
    assert!(e.contains("(1, 0, 1)") && e.contains("d.dcm"), "{e}");
    // DoseComment is LO: over 64 characters or non-ASCII is refused, not truncated.
    let mut rt = rt;
    *rt.dose_gy.get_mut(1, 0, 1) = 0.5;
    for comment in ["x".repeat(65), "RBE × 1.46".to_owned()] {
        rt.comment = comment;
        let e = write_rt_dose(&dir.path().join("d.dcm"), &rt, &ct.info)
            .unwrap_err()
            .to_string();
        assert!(e.contains("DICOM LO"), "{e}");
    }
}

#[test]
fn truncated_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let ct = small_ct(&new_uid());
    write_study(dir.path(), &ct);
    let victim = dir.path().join("CT_0003.dcm");
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() / 2]).unwrap();
    let e = Study::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("CT_0003.dcm"), "{e}");
    assert!(e.contains("truncated"), "{e}");
    // Cut inside the header too.
    std::fs::write(&victim, &bytes[..100]).unwrap();
    let e = Study::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("CT_0003.dcm") && e.contains("truncated"), "{e}");
}

#[test]
fn missing_slice_is_named() {
    let dir = tempfile::tempdir().unwrap();
    write_study(dir.path(), &small_ct(&new_uid()));
    std::fs::remove_file(dir.path().join("CT_0004.dcm")).unwrap();
    let e = Study::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("1 missing slice"), "{e}");
    assert!(
        e.contains("CT_0003.dcm") && e.contains("CT_0005.dcm"),
        "{e}"
    );
}

#[test]
fn duplicated_slice_and_mixed_series_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ct = small_ct(&new_uid());
    write_study(dir.path(), &ct);
    std::fs::copy(dir.path().join("CT_0002.dcm"), dir.path().join("copy.dcm")).unwrap();
    let e = Study::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("duplicated slice") && e.contains("copy.dcm"),
        "{e}"
    );

    let other = tempfile::tempdir().unwrap();
    write_ct_series(other.path(), &small_ct(&new_uid())).unwrap();
    std::fs::remove_file(dir.path().join("copy.dcm")).unwrap();
    std::fs::copy(
        other.path().join("CT_0001.dcm"),
        dir.path().join("stranger.dcm"),
    )
    .unwrap();
    let e = Study::load(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("mixed series") && e.contains("stranger.dcm"),
        "{e}"
    );
}

#[test]
fn structure_set_of_another_frame_of_reference_is_refused() {
    let a = tempfile::tempdir().unwrap();
    write_study(a.path(), &small_ct(&new_uid()));
    let b = tempfile::tempdir().unwrap();
    write_ct_series(b.path(), &small_ct(&new_uid())).unwrap();
    std::fs::copy(a.path().join("RS.dcm"), b.path().join("RS.dcm")).unwrap();
    let e = Study::load(b.path()).unwrap_err().to_string();
    assert!(
        e.contains("RS.dcm") && e.contains("frame of reference"),
        "{e}"
    );
}
