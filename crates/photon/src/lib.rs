//! Photon pencil-beam dose for SBRT and VMAT: a 6 MV machine model (source,
//! jaws, multileaf collimator, off-axis fluence, MU calibration), apertures
//! and arcs, and the dose of rectangular fluence elements computed with the
//! physics crate's Monte Carlo pencil kernel by the `photon_pb_dose` kernel
//! (WGSL on the GPU, its twin on the CPU).
//!
//! Units: lengths in mm (beam's-eye-view positions in the isocentre plane),
//! fluence in photons per mm² in the isocentre plane, dose in Gy to water,
//! meterset in MU.

pub mod aperture;
pub mod arc;
pub mod beamlet;
pub mod engine;
pub mod machine;

pub use aperture::{Aperture, FluenceElement};
pub use arc::{
    arc_control_points, arc_sectors, conformal_control_point, ArcSettings, TargetPoints,
};
pub use beamlet::{lateral_cutoff_mm, BeamletField, BeamletRow, BEAMLET_DOSE_THRESHOLD};
pub use engine::{ControlPoint, PhotonEngine, PhotonError};
pub use machine::{MachineError, PhotonMachine};
