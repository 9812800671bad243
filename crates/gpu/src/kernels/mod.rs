//! Host side of each kernel: its `Pod` parameters (shared by the WGSL shader in
//! `shaders/` and the CPU twin in `cpu/`) and one call that runs on either backend.

mod ion_influence;
mod ion_pb_dose;
mod photon_influence;
mod photon_pb_dose;
mod piecewise_linear;
mod sparse_mat_vec;
mod wed_profile;

pub use ion_influence::{InfluenceError, IonInfluence, IonInfluenceParams, IonSegment};
pub use ion_pb_dose::{IonKernelSpot, IonPbDose, IonPbParams, IonPbSpot, GY_PER_MEV_CM2_G_PER_MM2};
pub use photon_influence::{PhotonInfluence, PhotonInfluenceParams, PhotonRun};
pub use photon_pb_dose::{PhotonPbDose, PhotonPbElement, PhotonPbParams, PHOTON_KERNEL_GAUSSIANS};
pub use piecewise_linear::{PiecewiseLinear, PiecewiseLinearParams, TableError};
pub use sparse_mat_vec::{
    CompressedRows, RowsDifference, SparseError, SparseMatVec, SparseMatVecParams,
};
pub use wed_profile::{WedProfileParams, WedProfiles, WedRay};
