//! Writing a CT series and an RT Structure Set (used for the built-in phantoms).

use crate::contour::mask_outlines;
use crate::ct::{CtSeries, SeriesInfo};
use crate::error::{Result, RtioError};
use crate::uid::new_uid;
use crate::write::{dataset, ds, ds_multi, ds_multi_fixed, el, seq, write_file};
use dicom_core::{PrimitiveValue, VR};
use dicom_dictionary_std::{tags, uids};
use dicom_object::InMemDicomObject;
use ferrodose_grid::{Mask, Vector3};
use std::path::Path;

/// One ROI to write into an RT Structure Set.
pub struct RoiOut<'a> {
    pub name: &'a str,
    /// RT ROI Interpreted Type: `EXTERNAL`, `PTV`, `GTV`, `ORGAN`, …
    pub interpreted_type: &'a str,
    pub colour: [u8; 3],
    pub mask: &'a Mask,
}

/// Patient, study and frame-of-reference attributes every object we write carries.
pub(crate) fn common(i: &SeriesInfo, modality: &str) -> Vec<dicom_object::mem::InMemElement> {
    vec![
        el(tags::PATIENT_NAME, VR::PN, i.patient_name.as_str()),
        el(tags::PATIENT_ID, VR::LO, i.patient_id.as_str()),
        el(tags::PATIENT_BIRTH_DATE, VR::DA, ""),
        el(tags::PATIENT_SEX, VR::CS, ""),
        el(
            tags::STUDY_INSTANCE_UID,
            VR::UI,
            i.study_instance_uid.as_str(),
        ),
        el(tags::STUDY_DATE, VR::DA, ""),
        el(tags::STUDY_TIME, VR::TM, ""),
        el(tags::REFERRING_PHYSICIAN_NAME, VR::PN, ""),
        el(tags::STUDY_ID, VR::SH, "1"),
        el(tags::ACCESSION_NUMBER, VR::SH, ""),
        el(tags::MODALITY, VR::CS, modality),
        el(tags::MANUFACTURER, VR::LO, "ferrodose"),
        el(
            tags::FRAME_OF_REFERENCE_UID,
            VR::UI,
            i.frame_of_reference_uid.as_str(),
        ),
        el(tags::POSITION_REFERENCE_INDICATOR, VR::LO, ""),
    ]
}

/// Image plane attributes shared by CT slices and RT Dose frames.
pub(crate) fn plane_elements(grid: &ferrodose_grid::Grid) -> Vec<dicom_object::mem::InMemElement> {
    let (r, c) = (grid.axis(0), grid.axis(1));
    let s = grid.spacing_mm();
    vec![
        ds_multi(
            tags::IMAGE_ORIENTATION_PATIENT,
            &[r.x, r.y, r.z, c.x, c.y, c.z],
        ),
        ds_multi(tags::PIXEL_SPACING, &[s[1], s[0]]),
        el(tags::ROWS, VR::US, grid.shape()[1] as u16),
        el(tags::COLUMNS, VR::US, grid.shape()[0] as u16),
        el(tags::SAMPLES_PER_PIXEL, VR::US, 1u16),
        el(tags::PHOTOMETRIC_INTERPRETATION, VR::CS, "MONOCHROME2"),
    ]
}

/// Writes the CT as one file per slice, `CT_0001.dcm` …, 16-bit signed HU
/// (rescale slope 1, intercept 0). Refuses grids wider than 65 535 voxels.
pub fn write_ct_series(dir: &Path, ct: &CtSeries) -> Result<()> {
    let grid = ct.hu.grid();
    let [nx, ny, nz] = grid.shape();
    if nx > 65535 || ny > 65535 {
        return Err(RtioError::Write {
            path: dir.to_owned(),
            reason: format!("{nx}×{ny} is too large for a DICOM image"),
        });
    }
    let series_uid = &ct.info.series_instance_uid;
    for k in 0..nz {
        let p = grid.voxel_centre(0, 0, k);
        let hu = &ct.hu.data()[k * nx * ny..(k + 1) * nx * ny];
        let bytes: Vec<u8> = hu
            .iter()
            .flat_map(|v| (v.round().clamp(-32768.0, 32767.0) as i16).to_le_bytes())
            .collect();
        let mut e = common(&ct.info, "CT");
        e.extend(plane_elements(grid));
        e.extend([
            el(tags::SOP_CLASS_UID, VR::UI, uids::CT_IMAGE_STORAGE),
            el(
                tags::SOP_INSTANCE_UID,
                VR::UI,
                ct.info.slice_instance_uids[k].as_str(),
            ),
            el(
                tags::IMAGE_TYPE,
                VR::CS,
                PrimitiveValue::Strs(
                    ["DERIVED", "SECONDARY", "AXIAL"]
                        .map(String::from)
                        .into_iter()
                        .collect(),
                ),
            ),
            el(tags::SERIES_INSTANCE_UID, VR::UI, series_uid.as_str()),
            el(tags::SERIES_NUMBER, VR::IS, "1"),
            el(tags::INSTANCE_NUMBER, VR::IS, (k + 1).to_string()),
            el(
                tags::PATIENT_POSITION,
                VR::CS,
                ct.info.patient_position.dicom_code(),
            ),
            ds_multi(tags::IMAGE_POSITION_PATIENT, &[p.x, p.y, p.z]),
            el(tags::SLICE_THICKNESS, VR::DS, ds(grid.spacing_mm()[2])),
            el(tags::SLICE_LOCATION, VR::DS, ds(p.z)),
            el(tags::BITS_ALLOCATED, VR::US, 16u16),
            el(tags::BITS_STORED, VR::US, 16u16),
            el(tags::HIGH_BIT, VR::US, 15u16),
            el(tags::PIXEL_REPRESENTATION, VR::US, 1u16),
            el(tags::RESCALE_INTERCEPT, VR::DS, "0"),
            el(tags::RESCALE_SLOPE, VR::DS, "1"),
            el(tags::RESCALE_TYPE, VR::LO, "HU"),
            el(tags::KVP, VR::DS, ""),
            el(tags::PIXEL_DATA, VR::OW, PrimitiveValue::from(bytes)),
        ]);
        write_file(&dir.join(format!("CT_{:04}.dcm", k + 1)), dataset(e))?;
    }
    Ok(())
}

/// Writes an RT Structure Set for `rois` on the CT's grid. Contours follow voxel
/// edges, so rasterising them at voxel centres gives back the masks exactly.
pub fn write_structure_set(
    path: &Path,
    ct: &CtSeries,
    label: &str,
    rois: &[RoiOut<'_>],
) -> Result<()> {
    let grid = ct.hu.grid();
    let [nx, ny, nz] = grid.shape();
    let image_ref = |k: usize| {
        dataset([
            el(
                tags::REFERENCED_SOP_CLASS_UID,
                VR::UI,
                uids::CT_IMAGE_STORAGE,
            ),
            el(
                tags::REFERENCED_SOP_INSTANCE_UID,
                VR::UI,
                ct.info.slice_instance_uids[k].as_str(),
            ),
        ])
    };
    let for_uid = ct.info.frame_of_reference_uid.as_str();
    let referenced_for = dataset([
        el(tags::FRAME_OF_REFERENCE_UID, VR::UI, for_uid),
        seq(
            tags::RT_REFERENCED_STUDY_SEQUENCE,
            vec![dataset([
                el(
                    tags::REFERENCED_SOP_CLASS_UID,
                    VR::UI,
                    "1.2.840.10008.3.1.2.3.1",
                ),
                el(
                    tags::REFERENCED_SOP_INSTANCE_UID,
                    VR::UI,
                    ct.info.study_instance_uid.as_str(),
                ),
                seq(
                    tags::RT_REFERENCED_SERIES_SEQUENCE,
                    vec![dataset([
                        el(
                            tags::SERIES_INSTANCE_UID,
                            VR::UI,
                            ct.info.series_instance_uid.as_str(),
                        ),
                        seq(
                            tags::CONTOUR_IMAGE_SEQUENCE,
                            (0..nz).map(image_ref).collect(),
                        ),
                    ])],
                ),
            ])],
        ),
    ]);

    let mut roi_items = Vec::new();
    let mut contour_items = Vec::new();
    let mut observation_items = Vec::new();
    for (n, roi) in rois.iter().enumerate() {
        if !roi.mask.grid().same_as(grid, 1e-6) {
            return Err(RtioError::Write {
                path: path.to_owned(),
                reason: format!("ROI '{}' is not on the CT grid", roi.name),
            });
        }
        let number = (n + 1) as i32;
        roi_items.push(dataset([
            el(tags::ROI_NUMBER, VR::IS, number.to_string()),
            el(tags::REFERENCED_FRAME_OF_REFERENCE_UID, VR::UI, for_uid),
            el(tags::ROI_NAME, VR::LO, roi.name),
            el(tags::ROI_GENERATION_ALGORITHM, VR::CS, "AUTOMATIC"),
        ]));
        let mut contours = Vec::new();
        for k in 0..nz {
            let plane = &roi.mask.data()[k * nx * ny..(k + 1) * nx * ny];
            for poly in mask_outlines(plane, nx, ny) {
                let pts: Vec<f64> = poly
                    .iter()
                    .flat_map(|[ci, cj]| {
                        let p = grid.continuous_to_patient(Vector3::new(*ci, *cj, k as f64));
                        [p.x, p.y, p.z]
                    })
                    .collect();
                contours.push(dataset([
                    seq(tags::CONTOUR_IMAGE_SEQUENCE, vec![image_ref(k)]),
                    el(tags::CONTOUR_GEOMETRIC_TYPE, VR::CS, "CLOSED_PLANAR"),
                    el(
                        tags::NUMBER_OF_CONTOUR_POINTS,
                        VR::IS,
                        poly.len().to_string(),
                    ),
                    ds_multi_fixed(tags::CONTOUR_DATA, &pts, 4),
                ]));
            }
        }
        let c = roi.colour;
        contour_items.push(dataset([
            el(
                tags::ROI_DISPLAY_COLOR,
                VR::IS,
                PrimitiveValue::Strs(c.iter().map(|v| v.to_string()).collect()),
            ),
            seq(tags::CONTOUR_SEQUENCE, contours),
            el(tags::REFERENCED_ROI_NUMBER, VR::IS, number.to_string()),
        ]));
        observation_items.push(dataset([
            el(tags::OBSERVATION_NUMBER, VR::IS, number.to_string()),
            el(tags::REFERENCED_ROI_NUMBER, VR::IS, number.to_string()),
            el(tags::RTROI_INTERPRETED_TYPE, VR::CS, roi.interpreted_type),
            el(tags::ROI_INTERPRETER, VR::PN, ""),
        ]));
    }

    let mut e = common(&ct.info, "RTSTRUCT");
    e.extend([
        el(tags::SOP_CLASS_UID, VR::UI, uids::RT_STRUCTURE_SET_STORAGE),
        el(tags::SOP_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::SERIES_INSTANCE_UID, VR::UI, new_uid()),
        el(tags::SERIES_NUMBER, VR::IS, "2"),
        el(tags::INSTANCE_NUMBER, VR::IS, "1"),
        el(tags::STRUCTURE_SET_LABEL, VR::SH, label),
        el(tags::STRUCTURE_SET_DATE, VR::DA, ""),
        el(tags::STRUCTURE_SET_TIME, VR::TM, ""),
        seq(
            tags::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE,
            vec![referenced_for],
        ),
        seq(tags::STRUCTURE_SET_ROI_SEQUENCE, roi_items),
        seq(tags::ROI_CONTOUR_SEQUENCE, contour_items),
        seq(tags::RTROI_OBSERVATIONS_SEQUENCE, observation_items),
    ]);
    // Drop Frame of Reference from the RTSTRUCT top level: it is not part of that IOD.
    let mut obj: InMemDicomObject = dataset(e);
    obj.remove_element(tags::FRAME_OF_REFERENCE_UID);
    obj.remove_element(tags::POSITION_REFERENCE_INDICATOR);
    write_file(path, obj)
}
