//! Finding the CT series and RT Structure Set in a directory.

use crate::ct::CtSeries;
use crate::dataset::{looks_like_dicom, DicomFile};
use crate::error::{Result, RtioError};
use crate::rtstruct::StructureSet;
use dicom_dictionary_std::uids;
use std::path::{Path, PathBuf};

/// A CT with its structures, as imported from one directory.
#[derive(Debug, Clone)]
pub struct Study {
    pub ct: CtSeries,
    pub structures: Option<StructureSet>,
    /// Files that were not used: not DICOM, or other SOP classes (RT Dose, RT Plan, …).
    pub ignored: Vec<PathBuf>,
}

const ENHANCED_CT: &str = "1.2.840.10008.5.1.4.1.1.2.1";

impl Study {
    /// Imports the CT series and the RT Structure Set (if any) found in `dir`
    /// (not recursive; files in any order, with any names).
    pub fn load(dir: &Path) -> Result<Self> {
        let entries = std::fs::read_dir(dir).map_err(|source| RtioError::Io {
            path: dir.to_owned(),
            source,
        })?;
        let mut paths: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        paths.sort();

        let (mut cts, mut structs, mut ignored) = (Vec::new(), Vec::new(), Vec::new());
        for path in paths {
            let is_dcm_name = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("dcm"));
            if !looks_like_dicom(&path) {
                if is_dcm_name {
                    return Err(RtioError::Malformed {
                        reason:
                            "no DICM marker after the 128-byte preamble (truncated or not Part 10)"
                                .into(),
                        path,
                    });
                }
                ignored.push(path);
                continue;
            }
            let file = DicomFile::open(&path)?;
            match file.sop_class_uid().as_str() {
                uids::CT_IMAGE_STORAGE => cts.push(file),
                uids::RT_STRUCTURE_SET_STORAGE => structs.push(file),
                ENHANCED_CT => {
                    return Err(RtioError::Content {
                        path,
                        problem: "Enhanced CT (multi-frame) is not supported; export classic single-slice CT Image Storage".into(),
                    })
                }
                _ => ignored.push(path),
            }
        }
        if cts.is_empty() {
            return Err(RtioError::Series {
                dir: dir.to_owned(),
                problem: "no CT Image Storage files found".into(),
            });
        }
        let ct = CtSeries::from_files(dir, &cts)?;
        if structs.len() > 1 {
            return Err(RtioError::Series {
                dir: dir.to_owned(),
                problem: format!(
                    "{} RT Structure Sets found ({}); keep one per directory",
                    structs.len(),
                    structs
                        .iter()
                        .map(|f| f.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        let structures = structs
            .first()
            .map(|f| StructureSet::from_file(f, &ct))
            .transpose()?;
        Ok(Self {
            ct,
            structures,
            ignored,
        })
    }
}
