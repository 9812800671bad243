//! DICOM-RT input and output on the `dicom` crates (dicom-rs):
//! CT series → HU volume, RT Structure Set → masks, dose volume ↔ RT Dose,
//! RT Plan and RT Ion Plan → beams, control points and spots.
//!
//! Only uncompressed little-endian transfer syntaxes are read; compressed ones
//! are refused by name. Every error names the file and what is wrong with it.

mod contour;
mod ct;
mod dataset;
mod error;
mod export;
mod metaimage;
mod pixels;
mod rtdose;
mod rtplan;
mod rtstruct;
mod study;
mod uid;
mod write;

pub use contour::{fill_even_odd, mask_outlines};
pub use ct::{CtSeries, SeriesInfo};
pub use error::{Result, RtioError};
pub use export::{write_ct_series, write_structure_set, RoiOut};
pub use metaimage::write_metaimage;
pub use rtdose::{read_rt_dose, write_rt_dose, DoseSummation, DoseType, RtDose};
pub use rtplan::{
    DosimeterUnit, IonBeam, IonLayer, PhotonBeam, PhotonControlPoint, RtPlan, RtPlanBeams,
};
pub use rtstruct::{Structure, StructureSet};
pub use study::Study;
pub use uid::{new_uid, uid_from_key};
