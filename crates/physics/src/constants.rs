//! Physical constants (CODATA 2018; PDG Review of Particle Physics, "Passage of
//! particles through matter", table 34.1).

/// Electron rest energy m_e c² (MeV).
pub const ELECTRON_MASS_MEV: f64 = 0.510_998_950;
/// Proton rest energy (MeV).
pub const PROTON_MASS_MEV: f64 = 938.272_088;
/// Atomic mass unit u·c² (MeV).
pub const AMU_MEV: f64 = 931.494_102;
/// K = 4π N_A r_e² m_e c² (MeV·cm²/mol).
pub const BETHE_K: f64 = 0.307_075;
