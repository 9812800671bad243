//! Voxel grids in DICOM patient coordinates.
//!
//! Conventions used by every ferrodose crate:
//! - lengths in millimetres (mm), angles in degrees at API boundaries;
//! - points live in the DICOM patient coordinate system (LPS for a head-first
//!   supine patient: +x to the patient's left, +y posterior, +z superior);
//! - a voxel index is `(i, j, k)` along the grid's three axes, and dense data is
//!   stored with `i` fastest, then `j`, then `k` (`linear = i + nx·(j + ny·k)`),
//!   which for an axial CT means row-major slices stacked along the slice normal.

mod beam;
pub mod depth_profile;
mod grid;
mod ray;
mod sample;
mod volume;

pub use beam::{BeamFrame, BeamGeometry, PatientPosition};
pub use depth_profile::{index_ray, IndexRay};
pub use grid::{Grid, GridError};
pub use nalgebra::{Matrix3, Point3, Vector3};
pub use ray::{trace_ray, RaySegment};
pub use volume::{Mask, Volume};
