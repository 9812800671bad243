//! `ferrodose inspect DIR [--json]`.

use ferrodose_rtio::Study;
use serde::Serialize;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Directory holding a CT series and optionally one RT Structure Set.
    dir: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    patient_id: String,
    frame_of_reference_uid: String,
    patient_position: &'static str,
    /// Voxels along (columns, rows, slices).
    shape: [usize; 3],
    spacing_mm: [f64; 3],
    /// Centre of the first voxel, patient coordinates (mm).
    origin_mm: [f64; 3],
    /// Row direction, column direction, slice normal.
    orientation: [[f64; 3]; 3],
    hu_min: f32,
    hu_max: f32,
    rois: Vec<Roi>,
    warnings: Vec<String>,
    ignored_files: Vec<String>,
}

#[derive(Serialize)]
struct Roi {
    name: String,
    interpreted_type: String,
    voxels: usize,
    volume_cc: f64,
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let study = Study::load(&args.dir)?;
    let g = study.ct.hu.grid();
    let (hu_min, hu_max) = study.ct.hu.min_max();
    let o = g.origin_mm();
    let (rois, warnings) = match &study.structures {
        Some(ss) => (
            ss.structures
                .iter()
                .map(|s| Roi {
                    name: s.name.clone(),
                    interpreted_type: s.interpreted_type.clone(),
                    voxels: s.mask.count(),
                    volume_cc: s.mask.volume_cc(),
                })
                .collect(),
            ss.warnings.clone(),
        ),
        None => (
            Vec::new(),
            vec!["no RT Structure Set in the directory".to_owned()],
        ),
    };
    let report = Report {
        patient_id: study.ct.info.patient_id.clone(),
        frame_of_reference_uid: study.ct.info.frame_of_reference_uid.clone(),
        patient_position: study.ct.info.patient_position.dicom_code(),
        shape: g.shape(),
        spacing_mm: g.spacing_mm(),
        origin_mm: [o.x, o.y, o.z],
        orientation: [0, 1, 2].map(|a| {
            let v = g.axis(a);
            [v.x, v.y, v.z]
        }),
        hu_min,
        hu_max,
        rois,
        warnings,
        ignored_files: study
            .ignored
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

fn print_text(r: &Report) {
    println!(
        "patient {}  ({}), frame of reference {}",
        r.patient_id, r.patient_position, r.frame_of_reference_uid
    );
    println!(
        "grid     {} × {} × {} voxels, spacing {:?} mm, first voxel centre {:?} mm",
        r.shape[0], r.shape[1], r.shape[2], r.spacing_mm, r.origin_mm
    );
    println!(
        "axes     row {:?}, column {:?}, slice {:?}",
        r.orientation[0], r.orientation[1], r.orientation[2]
    );
    println!("HU       {} to {}", r.hu_min, r.hu_max);
    if !r.rois.is_empty() {
        println!(
            "{:<20} {:<10} {:>10} {:>12}",
            "ROI", "type", "voxels", "volume (cc)"
        );
        for roi in &r.rois {
            println!(
                "{:<20} {:<10} {:>10} {:>12.2}",
                roi.name, roi.interpreted_type, roi.voxels, roi.volume_cc
            );
        }
    }
    for w in &r.warnings {
        println!("warning: {w}");
    }
    if !r.ignored_files.is_empty() {
        println!(
            "ignored {} file(s) that are not CT or RT Structure Set",
            r.ignored_files.len()
        );
    }
}
