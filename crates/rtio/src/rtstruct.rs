//! RT Structure Set import: every ROI becomes a mask on the CT grid.

use crate::contour::fill_even_odd;
use crate::ct::CtSeries;
use crate::dataset::DicomFile;
use crate::error::{Result, RtioError};
use dicom_dictionary_std::tags;
use ferrodose_grid::{Mask, Point3};
use std::collections::HashMap;
use std::path::PathBuf;

/// One region of interest rasterised on the CT grid.
#[derive(Debug, Clone)]
pub struct Structure {
    /// ROI Number (3006,0022).
    pub number: i64,
    /// ROI Name (3006,0026).
    pub name: String,
    /// RT ROI Interpreted Type (3006,00A4), for example `PTV`, `ORGAN`, `EXTERNAL`; empty if absent.
    pub interpreted_type: String,
    /// Voxels whose centres lie inside the contours (even–odd rule per slice).
    pub mask: Mask,
    /// Number of CLOSED_PLANAR contours rasterised.
    pub contours: usize,
}

/// All ROIs of one RT Structure Set file, with what was odd about them.
#[derive(Debug, Clone)]
pub struct StructureSet {
    pub path: PathBuf,
    pub structures: Vec<Structure>,
    /// Non-fatal findings (empty ROIs, contours off the slice positions, …).
    pub warnings: Vec<String>,
}

/// A contour whose plane lies further than this fraction of the slice spacing
/// from a CT slice is reported (and drawn on the nearest slice).
const OFF_SLICE_TOL: f64 = 0.1;

impl StructureSet {
    /// Rasterises every ROI of an RT Structure Set on the CT's grid.
    ///
    /// Errors (naming the file and ROI) when the structure set or one of its ROIs
    /// references another frame of reference than the CT's.
    pub fn from_file(file: &DicomFile, ct: &CtSeries) -> Result<Self> {
        let ds = file.ds();
        let err = |problem: String| RtioError::Content {
            path: file.path.clone(),
            problem,
        };
        let ct_for = &ct.info.frame_of_reference_uid;
        let referenced: Vec<String> = ds
            .items(tags::REFERENCED_FRAME_OF_REFERENCE_SEQUENCE)
            .filter_map(|it| it.opt_str(tags::FRAME_OF_REFERENCE_UID))
            .collect();
        if !referenced.is_empty() && !referenced.contains(ct_for) {
            return Err(err(format!(
                "the structure set references frame of reference {} but the CT is in {ct_for}; it belongs to another image set",
                referenced.join(", ")
            )));
        }

        let grid = ct.hu.grid();
        let [nx, ny, nz] = grid.shape();
        let dz = grid.spacing_mm()[2];
        let mut warnings = Vec::new();

        let types: HashMap<i64, String> = ds
            .items(tags::RTROI_OBSERVATIONS_SEQUENCE)
            .filter_map(|it| {
                let n = it
                    .int(tags::REFERENCED_ROI_NUMBER, "ReferencedROINumber")
                    .ok()?;
                Some((
                    n,
                    it.opt_str(tags::RTROI_INTERPRETED_TYPE).unwrap_or_default(),
                ))
            })
            .collect();

        let mut structures = Vec::new();
        let mut by_number = HashMap::new();
        for roi in ds.items(tags::STRUCTURE_SET_ROI_SEQUENCE) {
            let number = roi.int(tags::ROI_NUMBER, "ROINumber")?;
            let name = roi.str(tags::ROI_NAME, "ROIName")?;
            if let Some(f) = roi.opt_str(tags::REFERENCED_FRAME_OF_REFERENCE_UID) {
                if &f != ct_for {
                    return Err(err(format!(
                        "ROI {number} '{name}' references frame of reference {f} but the CT is in {ct_for}"
                    )));
                }
            }
            by_number.insert(number, structures.len());
            structures.push(Structure {
                number,
                interpreted_type: types.get(&number).cloned().unwrap_or_default(),
                name,
                mask: Mask::filled(grid.clone(), false),
                contours: 0,
            });
        }

        let mut slice = vec![false; nx * ny];
        for rc in ds.items(tags::ROI_CONTOUR_SEQUENCE) {
            let number = rc.int(tags::REFERENCED_ROI_NUMBER, "ReferencedROINumber")?;
            let Some(&s) = by_number.get(&number) else {
                warnings.push(format!(
                    "contours for ROI number {number}, which the StructureSetROISequence does not define, were skipped"
                ));
                continue;
            };
            let st = &mut structures[s];
            let mut off_slice = 0usize;
            let mut outside = 0usize;
            for c in rc.items(tags::CONTOUR_SEQUENCE) {
                let kind = c.opt_str(tags::CONTOUR_GEOMETRIC_TYPE).unwrap_or_default();
                if kind != "CLOSED_PLANAR" {
                    warnings.push(format!(
                        "ROI '{}': a {kind} contour was skipped (only CLOSED_PLANAR is rasterised)",
                        st.name
                    ));
                    continue;
                }
                let data = c.all_floats(tags::CONTOUR_DATA, "ContourData")?;
                if data.len() % 3 != 0 || data.len() < 9 {
                    return Err(err(format!(
                        "ROI '{}': ContourData has {} values; expected a multiple of 3 and at least 3 points",
                        st.name,
                        data.len()
                    )));
                }
                let pts: Vec<_> = data
                    .chunks_exact(3)
                    .map(|p| grid.patient_to_continuous(&Point3::new(p[0], p[1], p[2])))
                    .collect();
                let ck = pts.iter().map(|p| p.z).sum::<f64>() / pts.len() as f64;
                let k = ck.round();
                if k < 0.0 || k >= nz as f64 {
                    outside += 1;
                    continue;
                }
                if (ck - k).abs() > OFF_SLICE_TOL
                    || pts.iter().any(|p| (p.z - ck).abs() > OFF_SLICE_TOL)
                {
                    off_slice += 1;
                }
                let k = k as usize;
                let poly: Vec<[f64; 2]> = pts.iter().map(|p| [p.x, p.y]).collect();
                let plane = &mut st.mask.data_mut()[k * nx * ny..(k + 1) * nx * ny];
                slice.copy_from_slice(plane);
                fill_even_odd(&poly, nx, ny, &mut slice);
                plane.copy_from_slice(&slice);
                st.contours += 1;
            }
            if off_slice > 0 {
                warnings.push(format!(
                    "ROI '{}': {off_slice} contour(s) lie more than {:.2} mm from a CT slice position or are not planar; drawn on the nearest slice",
                    st.name,
                    OFF_SLICE_TOL * dz
                ));
            }
            if outside > 0 {
                warnings.push(format!(
                    "ROI '{}': {outside} contour(s) lie outside the CT's slice range and were skipped",
                    st.name
                ));
            }
        }
        for st in &structures {
            if st.mask.count() == 0 {
                warnings.push(format!("ROI '{}' is empty on the CT grid", st.name));
            }
        }
        Ok(Self {
            path: file.path.clone(),
            structures,
            warnings,
        })
    }

    /// The structure of this name (exact match first, then case-insensitive),
    /// or an error that lists the names present.
    pub fn get(&self, name: &str) -> Result<&Structure> {
        self.structures
            .iter()
            .find(|s| s.name == name)
            .or_else(|| {
                self.structures
                    .iter()
                    .find(|s| s.name.eq_ignore_ascii_case(name))
            })
            .ok_or_else(|| RtioError::Content {
                path: self.path.clone(),
                problem: format!(
                    "no structure named '{name}'; the structure set has: {}",
                    self.structures
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    }
}
