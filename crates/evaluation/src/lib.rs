//! Dose evaluation, independent of how the dose was made: cumulative
//! dose–volume histograms, the dose metrics of a structure, target indices
//! (Paddick conformity, homogeneity, gradient), organ constraints and
//! BED/EQD2. Doses in Gy (Gy(RBE) for RBE-weighted ion doses), volumes in cc
//! and % of the structure.

pub mod dvh;
pub mod gamma;
pub mod metrics;

pub use dvh::Dvh;
pub use gamma::{gamma, GammaResult, GammaSettings};
pub use metrics::{
    liver_constraints, Constraint, ConstraintResult, StructureMetrics, TargetMetrics,
};
