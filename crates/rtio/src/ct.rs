//! CT series import: a set of CT Image Storage files becomes one HU volume.

use crate::dataset::DicomFile;
use crate::error::{Result, RtioError};
use crate::pixels::{stored_values, PixelLayout};
use dicom_dictionary_std::tags;
use ferrodose_grid::{Grid, PatientPosition, Point3, Vector3, Volume};
use std::path::Path;

/// Identifiers shared by the CT and everything that refers to it.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesInfo {
    pub patient_name: String,
    pub patient_id: String,
    pub study_instance_uid: String,
    pub series_instance_uid: String,
    pub frame_of_reference_uid: String,
    pub patient_position: PatientPosition,
    /// SOP Instance UID of each slice, in slice order `k`.
    pub slice_instance_uids: Vec<String>,
}

/// A CT image in Hounsfield units on its grid.
#[derive(Debug, Clone)]
pub struct CtSeries {
    pub hu: Volume<f32>,
    pub info: SeriesInfo,
}

/// Slice positions may deviate from uniform spacing by this much (mm) …
const SPACING_TOL_MM: f64 = 0.01;
/// … or by this fraction of the spacing, whichever is larger.
const SPACING_TOL_REL: f64 = 0.01;

struct Slice<'a> {
    file: &'a DicomFile,
    position_mm: Vector3<f64>,
    along_normal_mm: f64,
}

impl CtSeries {
    /// Builds one HU volume from CT Image Storage files (any order, any names).
    ///
    /// Refuses, naming the files: mixed series or frames of reference, differing
    /// image size, spacing or orientation, non-axial orientation, gantry tilt,
    /// duplicated or missing slices and non-uniform slice spacing.
    pub fn from_files(dir: &Path, files: &[DicomFile]) -> Result<Self> {
        let series_err = |problem: String| RtioError::Series {
            dir: dir.to_owned(),
            problem,
        };
        let first = files
            .first()
            .ok_or_else(|| series_err("no CT Image Storage files found".into()))?;
        let f0 = first.ds();
        let series_uid = f0.uid(tags::SERIES_INSTANCE_UID, "SeriesInstanceUID")?;
        let for_uid = f0.uid(tags::FRAME_OF_REFERENCE_UID, "FrameOfReferenceUID")?;
        let iop = f0.floats(
            tags::IMAGE_ORIENTATION_PATIENT,
            "ImageOrientationPatient",
            6,
        )?;
        let rows = f0.int(tags::ROWS, "Rows")? as usize;
        let cols = f0.int(tags::COLUMNS, "Columns")? as usize;
        let spacing = f0.floats(tags::PIXEL_SPACING, "PixelSpacing", 2)?;
        if spacing.iter().any(|s| *s <= 0.0) {
            return Err(RtioError::Attribute {
                path: first.path.clone(),
                attribute: "PixelSpacing",
                reason: format!("{spacing:?} must be positive"),
            });
        }
        let row_dir = Vector3::new(iop[0], iop[1], iop[2]);
        let col_dir = Vector3::new(iop[3], iop[4], iop[5]);
        let normal = row_dir.cross(&col_dir);
        if normal.z.abs() < 1.0 - 1e-3 {
            return Err(series_err(format!(
                "{}: ImageOrientationPatient {iop:?} is not axial (slice normal {:.3?}); only axial CT is supported",
                first.path.display(),
                normal.as_slice()
            )));
        }

        let mut slices = Vec::with_capacity(files.len());
        for f in files {
            let ds = f.ds();
            let name = f.path.display();
            let check = |what: &str, a: String, b: String| {
                if a != b {
                    Err(series_err(format!(
                        "mixed {what}: {} has {b} but {} has {a}",
                        first.path.display(),
                        name
                    )))
                } else {
                    Ok(())
                }
            };
            check(
                "series (SeriesInstanceUID)",
                ds.uid(tags::SERIES_INSTANCE_UID, "SeriesInstanceUID")?,
                series_uid.clone(),
            )?;
            check(
                "frames of reference (FrameOfReferenceUID)",
                ds.uid(tags::FRAME_OF_REFERENCE_UID, "FrameOfReferenceUID")?,
                for_uid.clone(),
            )?;
            check(
                "image size (Rows × Columns)",
                format!(
                    "{}×{}",
                    ds.int(tags::ROWS, "Rows")?,
                    ds.int(tags::COLUMNS, "Columns")?
                ),
                format!("{rows}×{cols}"),
            )?;
            let sp = ds.floats(tags::PIXEL_SPACING, "PixelSpacing", 2)?;
            let o = ds.floats(
                tags::IMAGE_ORIENTATION_PATIENT,
                "ImageOrientationPatient",
                6,
            )?;
            if (0..2).any(|a| (sp[a] - spacing[a]).abs() > 1e-4) {
                check("PixelSpacing", format!("{sp:?}"), format!("{spacing:?}"))?;
            }
            if (0..6).any(|a| (o[a] - iop[a]).abs() > 1e-4) {
                check(
                    "ImageOrientationPatient",
                    format!("{o:?}"),
                    format!("{iop:?}"),
                )?;
            }
            if let Ok(tilt) = ds.float(tags::GANTRY_DETECTOR_TILT, "GantryDetectorTilt") {
                if tilt.abs() > 1e-3 {
                    return Err(series_err(format!(
                        "{name}: gantry tilt of {tilt}° is not supported; resample the CT to axial slices first"
                    )));
                }
            }
            let p = ds.floats(tags::IMAGE_POSITION_PATIENT, "ImagePositionPatient", 3)?;
            let position_mm = Vector3::new(p[0], p[1], p[2]);
            slices.push(Slice {
                file: f,
                along_normal_mm: position_mm.dot(&normal),
                position_mm,
            });
        }
        slices.sort_by(|a, b| a.along_normal_mm.total_cmp(&b.along_normal_mm));
        let dz = slice_spacing(dir, &slices)?;

        // Slices must line up along the normal: an in-plane drift means tilt.
        let p0 = slices[0].position_mm;
        for s in &slices {
            let d = s.position_mm - p0;
            let in_plane = d - normal * d.dot(&normal);
            if in_plane.norm() > 0.01 {
                return Err(series_err(format!(
                    "{}: ImagePositionPatient drifts by {:.3} mm within the slice plane relative to {} (gantry tilt or a sheared series); not supported",
                    s.file.path.display(),
                    in_plane.norm(),
                    slices[0].file.path.display()
                )));
            }
        }

        let grid = Grid::new(
            [cols, rows, slices.len()],
            [spacing[1], spacing[0], dz],
            Point3::from(p0),
            [row_dir, col_dir, normal],
        )
        .map_err(|e| series_err(e.to_string()))?;

        let mut hu = Vec::with_capacity(grid.len());
        let mut slice_instance_uids = Vec::with_capacity(slices.len());
        for s in &slices {
            s.file.require_native_pixels()?;
            let ds = s.file.ds();
            let slope = ds.float(tags::RESCALE_SLOPE, "RescaleSlope").unwrap_or(1.0);
            let intercept = ds
                .float(tags::RESCALE_INTERCEPT, "RescaleIntercept")
                .unwrap_or(0.0);
            let layout = PixelLayout {
                rows,
                columns: cols,
                frames: 1,
            };
            let stored = stored_values(&ds, &layout)?;
            hu.extend(stored.iter().map(|v| (v * slope + intercept) as f32));
            slice_instance_uids.push(ds.uid(tags::SOP_INSTANCE_UID, "SOPInstanceUID")?);
        }

        let position = f0
            .opt_str(tags::PATIENT_POSITION)
            .unwrap_or_else(|| "HFS".into());
        let patient_position =
            PatientPosition::from_dicom(&position).ok_or_else(|| RtioError::Attribute {
                path: first.path.clone(),
                attribute: "PatientPosition",
                reason: format!("{position:?}; expected HFS, HFP, FFS or FFP"),
            })?;
        Ok(Self {
            hu: Volume::from_vec(grid, hu),
            info: SeriesInfo {
                patient_name: f0.opt_str(tags::PATIENT_NAME).unwrap_or_default(),
                patient_id: f0.opt_str(tags::PATIENT_ID).unwrap_or_default(),
                study_instance_uid: f0.uid(tags::STUDY_INSTANCE_UID, "StudyInstanceUID")?,
                series_instance_uid: series_uid,
                frame_of_reference_uid: for_uid,
                patient_position,
                slice_instance_uids,
            },
        })
    }
}

/// The uniform slice spacing (mm) of slices sorted along the normal, or an
/// error naming the files around a duplicate, a gap or an irregular step.
fn slice_spacing(dir: &Path, slices: &[Slice<'_>]) -> Result<f64> {
    let err = |problem: String| RtioError::Series {
        dir: dir.to_owned(),
        problem,
    };
    if slices.len() < 2 {
        return Err(err("a CT series needs at least 2 slices".into()));
    }
    let steps: Vec<f64> = slices
        .windows(2)
        .map(|w| w[1].along_normal_mm - w[0].along_normal_mm)
        .collect();
    for (w, step) in slices.windows(2).zip(&steps) {
        if *step < SPACING_TOL_MM {
            return Err(err(format!(
                "duplicated slice: {} and {} are both at {:.3} mm along the slice normal",
                w[0].file.path.display(),
                w[1].file.path.display(),
                w[0].along_normal_mm
            )));
        }
    }
    let mut sorted = steps.clone();
    sorted.sort_by(f64::total_cmp);
    let dz = sorted[sorted.len() / 2];
    let tol = SPACING_TOL_MM.max(SPACING_TOL_REL * dz);
    for (w, step) in slices.windows(2).zip(&steps) {
        if (step - dz).abs() > tol {
            let ratio = step / dz;
            let what = if (ratio - ratio.round()).abs() * dz <= tol && ratio.round() >= 2.0 {
                format!("{} missing slice(s)", ratio.round() as usize - 1)
            } else {
                "non-uniform slice spacing".to_owned()
            };
            return Err(err(format!(
                "{what}: {:.3} mm between {} ({:.3} mm) and {} ({:.3} mm), but the series spacing is {dz:.3} mm",
                step,
                w[0].file.path.display(),
                w[0].along_normal_mm,
                w[1].file.path.display(),
                w[1].along_normal_mm
            )));
        }
    }
    // Spacing from first to last slice, more precise than the median step.
    Ok((slices[slices.len() - 1].along_normal_mm - slices[0].along_normal_mm) / steps.len() as f64)
}
