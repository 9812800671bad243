//! Ion pencil-beam dose engine (protons and carbon ions).
//!
//! A spot's dose at a voxel is the IDD(WED) spread by two lateral Gaussians:
//! the primaries' core, whose σ combines the spot size in air with multiple
//! Coulomb scattering along the ray, and the wider tail of nuclear
//! secondaries (the protons' halo, the carbon fragments) ([`base_data`]).
//! WED is the water-equivalent depth of the voxel's projection on the spot's
//! central ray, integrated through the relative-stopping-power volume
//! (`ferrodose_grid::depth_profile`). The per-voxel sum over spots runs in the
//! `ion_pb_dose` kernel on the GPU or its CPU twin ([`engine`]).
//!
//! Dose is dose to water (Gy per particle × weight).

pub mod base_data;
pub mod engine;
pub mod influence;
pub mod placement;
pub mod reach;

pub use base_data::{IonBaseData, Quantity, RbeModel, PROTON_RBE};
pub use engine::{
    cutoff_sigmas2, distinct_energies, BeamSpots, PencilBeamEngine, Spot, LATERAL_CUTOFF_FRACTION,
    SAME_ENERGY_MEV_U,
};
pub use influence::{
    dose_by_segments, influence_matrix, influence_matrix_coarse_tail, tail_lattice, tail_stride,
    TAIL_LATTICE_MM,
};
pub use placement::{place_spots, Placement, PlacementSettings};
