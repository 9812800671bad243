//! Physics for ferrodose: materials, charged-particle stopping power and range,
//! multiple Coulomb scattering and radiobiology (RBE, linear–quadratic).
//!
//! Units: kinetic energy in MeV (MeV/u, per nucleon, for ions), mass stopping
//! power in MeV·cm²/g, ranges in g/cm², angles in radians, dose in Gy.
//! Every model names its reference in its doc comment and in `docs/physics.md`.

pub mod calibration;
pub mod carbon_depth_dose;
pub mod constants;
pub mod depth_dose;
pub mod electron;
pub mod material;
pub mod nuclear;
pub mod photon;
pub mod photon_kernel;
pub mod photon_spectrum;
mod quadrature;
pub mod radiobiology;
pub mod range;
pub mod scattering;
pub mod stopping;

pub use material::Material;
pub use range::RangeTable;
pub use stopping::Ion;

/// Why a physics quantity cannot be computed.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PhysicsError {
    #[error("energy {value} MeV/u is outside the model's range {min}–{max} MeV/u")]
    EnergyOutOfRange { value: f64, min: f64, max: f64 },
    #[error("{0}")]
    Invalid(String),
}
