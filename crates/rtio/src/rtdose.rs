//! RT Dose export and import: multi-frame, 32-bit unsigned pixels × DoseGridScaling.

use crate::ct::SeriesInfo;
use crate::dataset::DicomFile;
use crate::error::{Result, RtioError};
use crate::export::{common, plane_elements};
use crate::pixels::{stored_values, PixelLayout};
use crate::uid::new_uid;
use crate::write::{dataset, ds, ds_multi, el, seq, write_file};
use dicom_core::{PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use ferrodose_grid::{Grid, Point3, Vector3, Volume};
use std::path::Path;

/// DoseType (3004,0004).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseType {
    /// Absorbed dose, Gy.
    Physical,
    /// RBE-weighted dose, Gy(RBE).
    Effective,
}

/// DoseSummationType (3004,000A).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseSummation {
    Plan,
    Beam,
}

/// A dose distribution as stored in an RT Dose file.
#[derive(Debug, Clone)]
pub struct RtDose {
    /// Dose in Gy (Gy(RBE) for [`DoseType::Effective`]).
    pub dose_gy: Volume<f32>,
    pub dose_type: DoseType,
    pub summation: DoseSummation,
    /// Frame of Reference UID the dose grid lives in.
    pub frame_of_reference_uid: String,
    /// SOP Instance UID of the RT Plan the dose belongs to, if any.
    pub referenced_plan_uid: Option<String>,
    /// Free text for DoseComment, for example "dose to water, ferrodose proton PB".
    pub comment: String,
    /// DoseGridScaling, Gy per stored unit (set on write and read).
    pub scaling_gy: f64,
}

impl DoseType {
    fn code(self) -> &'static str {
        match self {
            Self::Physical => "PHYSICAL",
            Self::Effective => "EFFECTIVE",
        }
    }
}

/// The DoseGridScaling (Gy per unit) to store a maximum dose in 32 bits, as the
/// value a reader parses from its 16-character decimal string.
fn grid_scaling(max_gy: f64) -> f64 {
    let target = if max_gy > 0.0 {
        max_gy / f64::from(u32::MAX - 1)
    } else {
        1e-9
    };
    let mut s: f64 = ds(target).parse().expect("ds() writes a number");
    while max_gy / s > f64::from(u32::MAX) - 0.5 {
        s = ds(s * (1.0 + 1e-9)).parse().expect("ds() writes a number");
    }
    s
}

/// Writes an RT Dose file referencing the CT's study and frame of reference.
/// Returns the DoseGridScaling used: every voxel is stored within half of it.
pub fn write_rt_dose(path: &Path, dose: &RtDose, ct: &SeriesInfo) -> Result<f64> {
    let werr = |reason: String| RtioError::Write {
        path: path.to_owned(),
        reason,
    };
    if dose.frame_of_reference_uid != ct.frame_of_reference_uid {
        return Err(werr(format!(
            "dose frame of reference {} differs from the CT's {}",
            dose.frame_of_reference_uid, ct.frame_of_reference_uid
        )));
    }
    // DoseComment is LO: at most 64 characters of the default (ASCII) repertoire.
    if dose.comment.len() > 64
        || !dose
            .comment
            .chars()
            .all(|c| c.is_ascii() && !c.is_control())
    {
        return Err(werr(format!(
            "dose comment '{}' must be at most 64 printable ASCII characters (DICOM LO)",
            dose.comment
        )));
    }
    let mut max = 0.0f64;
    for (n, v) in dose.dose_gy.data().iter().enumerate() {
        if !v.is_finite() || *v < 0.0 {
            let [i, j, k] = dose.dose_gy.grid().ijk(n);
            return Err(werr(format!(
                "dose at voxel ({i}, {j}, {k}) is {v}; doses must be finite and non-negative"
            )));
        }
        max = max.max(f64::from(*v));
    }
    let scaling = grid_scaling(max);
    let grid = dose.dose_gy.grid();
    let normal = grid.axis(0).cross(&grid.axis(1));
    let dz = grid.spacing_mm()[2] * grid.axis(2).dot(&normal);
    let offsets: Vec<f64> = (0..grid.shape()[2]).map(|k| k as f64 * dz).collect();
    let pixels: Vec<u8> = dose
        .dose_gy
        .data()
        .iter()
        .flat_map(|v| ((f64::from(*v) / scaling).round() as u32).to_le_bytes())
        .collect();
    let o = grid.origin_mm();

    let mut e = common(ct, "RTDOSE");
    e.extend([
        el(tags::SOP_CLASS_UID, VR::UI, uids::RT_DOSE_STORAGE),
        el(tags::SOP_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::SERIES_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::SERIES_NUMBER, VR::IS, "3"),
        el(tags::INSTANCE_NUMBER, VR::IS, "1"),
        ds_multi(tags::IMAGE_POSITION_PATIENT, &[o.x, o.y, o.z]),
        el(tags::SLICE_THICKNESS, VR::DS, ds(dz.abs())),
        el(tags::NUMBER_OF_FRAMES, VR::IS, grid.shape()[2].to_string()),
        el(
            tags::FRAME_INCREMENT_POINTER,
            VR::AT,
            PrimitiveValue::Tags([tags::GRID_FRAME_OFFSET_VECTOR].into_iter().collect()),
        ),
        el(tags::BITS_ALLOCATED, VR::US, 32u16),
        el(tags::BITS_STORED, VR::US, 32u16),
        el(tags::HIGH_BIT, VR::US, 31u16),
        el(tags::PIXEL_REPRESENTATION, VR::US, 0u16),
        el(tags::DOSE_UNITS, VR::CS, "GY"),
        el(tags::DOSE_TYPE, VR::CS, dose.dose_type.code()),
        el(tags::DOSE_COMMENT, VR::LO, dose.comment.as_str()),
        el(
            tags::DOSE_SUMMATION_TYPE,
            VR::CS,
            match dose.summation {
                DoseSummation::Plan => "PLAN",
                DoseSummation::Beam => "BEAM",
            },
        ),
        ds_multi(tags::GRID_FRAME_OFFSET_VECTOR, &offsets),
        el(tags::DOSE_GRID_SCALING, VR::DS, ds(scaling)),
        el(tags::TISSUE_HETEROGENEITY_CORRECTION, VR::CS, "IMAGE"),
        el(tags::PIXEL_DATA, VR::OW, PrimitiveValue::from(pixels)),
    ]);
    e.extend(plane_elements(grid));
    if let Some(plan) = &dose.referenced_plan_uid {
        e.push(seq(
            tags::REFERENCED_RT_PLAN_SEQUENCE,
            vec![dataset([
                el(
                    tags::REFERENCED_SOP_CLASS_UID,
                    VR::UI,
                    uids::RT_PLAN_STORAGE,
                ),
                el(tags::REFERENCED_SOP_INSTANCE_UID, VR::UI, plan.as_str()),
            ])],
        ));
    }
    write_file(path, dataset(e))?;
    Ok(scaling)
}

/// Reads an RT Dose file into a dose volume (Gy or Gy(RBE)).
pub fn read_rt_dose(path: &Path) -> Result<RtDose> {
    let file = DicomFile::open(path)?;
    file.require_native_pixels()?;
    let d = file.ds();
    let content = |problem: String| RtioError::Content {
        path: path.to_owned(),
        problem,
    };
    if file.sop_class_uid() != uids::RT_DOSE_STORAGE {
        return Err(content(format!(
            "SOP class {} is not RT Dose Storage",
            file.sop_class_uid()
        )));
    }
    let units = d.str(tags::DOSE_UNITS, "DoseUnits")?;
    if units != "GY" {
        return Err(content(format!("DoseUnits {units}; only GY is supported")));
    }
    let dose_type = match d.str(tags::DOSE_TYPE, "DoseType")?.as_str() {
        "PHYSICAL" => DoseType::Physical,
        "EFFECTIVE" => DoseType::Effective,
        other => {
            return Err(content(format!(
                "DoseType {other}; expected PHYSICAL or EFFECTIVE"
            )))
        }
    };
    let summation = match d.opt_str(tags::DOSE_SUMMATION_TYPE).as_deref() {
        Some("BEAM") => DoseSummation::Beam,
        _ => DoseSummation::Plan,
    };
    let rows = d.int(tags::ROWS, "Rows")? as usize;
    let cols = d.int(tags::COLUMNS, "Columns")? as usize;
    let frames = d.int(tags::NUMBER_OF_FRAMES, "NumberOfFrames")?.max(1) as usize;
    let iop = d.floats(
        tags::IMAGE_ORIENTATION_PATIENT,
        "ImageOrientationPatient",
        6,
    )?;
    let ipp = d.floats(tags::IMAGE_POSITION_PATIENT, "ImagePositionPatient", 3)?;
    let spacing = d.floats(tags::PIXEL_SPACING, "PixelSpacing", 2)?;
    let scaling = d.float(tags::DOSE_GRID_SCALING, "DoseGridScaling")?;
    let offsets = if frames > 1 {
        d.floats(
            tags::GRID_FRAME_OFFSET_VECTOR,
            "GridFrameOffsetVector",
            frames,
        )?
    } else {
        vec![0.0]
    };
    let row_dir = Vector3::new(iop[0], iop[1], iop[2]);
    let col_dir = Vector3::new(iop[3], iop[4], iop[5]);
    let normal = row_dir.cross(&col_dir);
    let step = if frames > 1 {
        offsets[1] - offsets[0]
    } else {
        1.0
    };
    for (k, w) in offsets.windows(2).enumerate() {
        if ((w[1] - w[0]) - step).abs() > 1e-3 * step.abs().max(1.0) || step == 0.0 {
            return Err(content(format!(
                "GridFrameOffsetVector is not uniform (frame {k} to {}: {} mm, first step {step} mm)",
                k + 1,
                w[1] - w[0]
            )));
        }
    }
    let origin = Point3::new(ipp[0], ipp[1], ipp[2]) + normal * offsets[0];
    let grid = Grid::new(
        [cols, rows, frames],
        [spacing[1], spacing[0], step.abs()],
        origin,
        [row_dir, col_dir, normal * step.signum()],
    )
    .map_err(|e| content(e.to_string()))?;
    let stored = stored_values(
        &d,
        &PixelLayout {
            rows,
            columns: cols,
            frames,
        },
    )?;
    let dose: Vec<f32> = stored.iter().map(|v| (v * scaling) as f32).collect();
    let referenced_plan_uid = d
        .items(tags::REFERENCED_RT_PLAN_SEQUENCE)
        .next()
        .and_then(|it| it.opt_str(tags::REFERENCED_SOP_INSTANCE_UID));
    Ok(RtDose {
        dose_gy: Volume::from_vec(grid, dose),
        dose_type,
        summation,
        frame_of_reference_uid: d.uid(tags::FRAME_OF_REFERENCE_UID, "FrameOfReferenceUID")?,
        referenced_plan_uid,
        comment: d.opt_str(tags::DOSE_COMMENT).unwrap_or_default(),
        scaling_gy: scaling,
    })
}
