//! Multiple Coulomb scattering.
//!
//! Highland's formula as refined by Gottschalk et al. (NIM B 74:467, 1993):
//! θ₀ = (14.1 MeV / pv)·z·√(L/X₀)·[1 + ⅑·log₁₀(L/X₀)] (rad), for a slab of
//! thickness L, with pv taken at the entrance. Radiation length of water
//! X₀ = 36.08 cm (= 36.08 g/cm²).

use crate::quadrature::integrate;
use crate::range::RangeTable;
use crate::stopping::Ion;
use crate::PhysicsError;

/// Radiation length of liquid water (g/cm²).
pub const WATER_RADIATION_LENGTH_G_CM2: f64 = 36.08;

/// Highland θ₀ (rad, the Gaussian width of the projected angle) after a slab
/// of `thickness_g_cm2` of a material with radiation length `x0_g_cm2`,
/// for `ion` entering at `e_u` MeV/u.
pub fn highland_theta0(ion: &Ion, e_u: f64, thickness_g_cm2: f64, x0_g_cm2: f64) -> f64 {
    let l = thickness_g_cm2 / x0_g_cm2;
    14.1 / ion.pv_mev(e_u) * f64::from(ion.z) * l.sqrt() * (1.0 + l.log10() / 9.0)
}

/// Angular and lateral spread of a pencil beam after `depth_g_cm2` of water
/// (generalised Highland, Gottschalk et al. 1993, with Fermi–Eyges moments):
/// θ₀² = F² ∫₀ᶻ dz′/(pv(z′)² X₀) and σ_y² = F² ∫₀ᶻ (z − z′)²/(pv(z′)² X₀) dz′,
/// F = 14.1 MeV·z_ion·[1 + ⅑ log₁₀(z/X₀)], pv from the residual range.
/// Returns (θ₀ in rad, σ_y in g/cm², i.e. cm of water). `depth_g_cm2` must be
/// below the CSDA range.
pub fn pencil_beam_spread(
    table: &RangeTable,
    e_u: f64,
    depth_g_cm2: f64,
    x0_g_cm2: f64,
) -> Result<(f64, f64), PhysicsError> {
    let r0 = table.csda_range(e_u)?;
    if !(depth_g_cm2 > 0.0 && depth_g_cm2 < r0) {
        return Err(PhysicsError::Invalid(format!(
            "depth {depth_g_cm2} g/cm² must lie between 0 and the CSDA range {r0:.3} g/cm²"
        )));
    }
    let ion = table.ion;
    let inv_pv2 = |zp: f64| ion.pv_mev(table.energy_at_residual_range(r0 - zp)).powi(-2);
    let f = 14.1 * f64::from(ion.z) * (1.0 + (depth_g_cm2 / x0_g_cm2).log10() / 9.0);
    let z = depth_g_cm2;
    let theta2 = f * f / x0_g_cm2 * integrate(0.0, z, 200, inv_pv2);
    let sigma2 = f * f / x0_g_cm2 * integrate(0.0, z, 200, |zp| (z - zp).powi(2) * inv_pv2(zp));
    Ok((theta2.sqrt(), sigma2.sqrt()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::Material;

    /// Hand evaluation of the formula for a 160 MeV proton through 1 cm of water:
    /// pv = (T² + 2TM)/(T + M) = 325 847/1098.272 = 296.69 MeV, L/X₀ = 0.027716,
    /// θ₀ = 14.1/296.69 · 0.166481 · (1 − 1.55727/9) = 6.543 mrad.
    #[test]
    fn proton_160_mev_through_1_cm_water() {
        let t = highland_theta0(&Ion::proton(), 160.0, 1.0, WATER_RADIATION_LENGTH_G_CM2);
        assert!((t * 1e3 - 6.543).abs() < 0.002, "{}", t * 1e3);
    }

    /// In a thin slab pv is nearly constant: θ₀ equals Highland's formula and
    /// σ_y = θ₀·z/√3 (Fermi–Eyges for constant scattering power), to 0.2 %.
    #[test]
    fn thin_slab_limit_matches_highland() {
        let t = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
        let (theta, sigma) =
            pencil_beam_spread(&t, 200.0, 0.1, WATER_RADIATION_LENGTH_G_CM2).unwrap();
        let h = highland_theta0(&Ion::proton(), 200.0, 0.1, WATER_RADIATION_LENGTH_G_CM2);
        assert!((theta / h - 1.0).abs() < 0.002, "{theta} vs {h}");
        assert!((sigma / (theta * 0.1 / 3f64.sqrt()) - 1.0).abs() < 0.002);
    }

    /// The spread grows with depth and faster than linearly towards the end of
    /// range as pv falls; refuses depths beyond the range.
    #[test]
    fn spread_grows_with_depth() {
        let t = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
        let r0 = t.csda_range(150.0).unwrap();
        let s: Vec<f64> = [0.25, 0.5, 0.75, 0.95]
            .iter()
            .map(|f| {
                pencil_beam_spread(&t, 150.0, f * r0, WATER_RADIATION_LENGTH_G_CM2)
                    .unwrap()
                    .1
            })
            .collect();
        assert!(s.windows(2).all(|w| w[1] > w[0]), "{s:?}");
        eprintln!("150 MeV in water: σ_MCS at 25/50/75/95 % of range = {s:?} cm");
        assert!(pencil_beam_spread(&t, 150.0, r0 + 1.0, WATER_RADIATION_LENGTH_G_CM2).is_err());
    }
}
