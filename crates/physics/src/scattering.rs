//! Multiple Coulomb scattering.
//!
//! Highland's formula as refined by Gottschalk et al. (NIM B 74:467, 1993):
//! θ₀ = (14.1 MeV / pv)·z·√(L/X₀)·[1 + ⅑·log₁₀(L/X₀)] (rad), for a slab of
//! thickness L, with pv taken at the entrance. Radiation length of water
//! X₀ = 36.08 cm (= 36.08 g/cm²).

use crate::stopping::Ion;

/// Radiation length of liquid water (g/cm²).
pub const WATER_RADIATION_LENGTH_G_CM2: f64 = 36.08;

/// Highland θ₀ (rad, the Gaussian width of the projected angle) after a slab
/// of `thickness_g_cm2` of a material with radiation length `x0_g_cm2`,
/// for `ion` entering at `e_u` MeV/u.
pub fn highland_theta0(ion: &Ion, e_u: f64, thickness_g_cm2: f64, x0_g_cm2: f64) -> f64 {
    let l = thickness_g_cm2 / x0_g_cm2;
    14.1 / ion.pv_mev(e_u) * f64::from(ion.z) * l.sqrt() * (1.0 + l.log10() / 9.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand evaluation of the formula for a 160 MeV proton through 1 cm of water:
    /// pv = (T² + 2TM)/(T + M) = 325 847/1098.272 = 296.69 MeV, L/X₀ = 0.027716,
    /// θ₀ = 14.1/296.69 · 0.166481 · (1 − 1.55727/9) = 6.543 mrad.
    #[test]
    fn proton_160_mev_through_1_cm_water() {
        let t = highland_theta0(&Ion::proton(), 160.0, 1.0, WATER_RADIATION_LENGTH_G_CM2);
        assert!((t * 1e3 - 6.543).abs() < 0.002, "{}", t * 1e3);
    }
}
