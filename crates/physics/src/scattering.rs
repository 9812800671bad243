//! Multiple Coulomb scattering.
//!
//! Highland's formula as refined by Gottschalk et al. (NIM B 74:467, 1993):
//! θ₀ = (14.1 MeV / pv)·z·√(L/X₀)·[1 + ⅑·log₁₀(L/X₀)] (rad), for a slab of
//! thickness L, with pv taken at the entrance. Radiation length of water
//! X₀ = 36.08 cm (= 36.08 g/cm²).
//!
//! For Monte Carlo steps, `sample_gaussian_deflection` draws a deflection in
//! the Gaussian (Rossi–Greisen) form from a step's θ₀ (Highland's for the
//! step): projected angles θx, θy each N(0, θ₀²), so the polar angle θ of the
//! space angle has P(θ > a) = exp(−a²/2θ₀²). The single-scattering tail of
//! Molière's theory (a few % of the particles beyond 2.5 θ₀) is not sampled.

use crate::quadrature::integrate;
use crate::range::RangeTable;
use crate::stopping::Ion;
use crate::PhysicsError;
use rand::Rng;

/// Radiation length of liquid water (g/cm²).
pub const WATER_RADIATION_LENGTH_G_CM2: f64 = 36.08;

/// Highland θ₀ (rad, the Gaussian width of the projected angle) after a slab
/// of `thickness_g_cm2` of a material with radiation length `x0_g_cm2`,
/// for `ion` entering at `e_u` MeV/u.
pub fn highland_theta0(ion: &Ion, e_u: f64, thickness_g_cm2: f64, x0_g_cm2: f64) -> f64 {
    let l = thickness_g_cm2 / x0_g_cm2;
    14.1 / ion.pv_mev(e_u) * f64::from(ion.z) * l.sqrt() * (1.0 + l.log10() / 9.0)
}

/// Scattering power of the generalised Highland form without its logarithmic
/// factor, (14.1 MeV·z_ion)² / (pv² X₀) (rad² per g/cm²), of `table`'s ion
/// entering water at `e_u` MeV/u, at `depth_g_cm2` (pv from the residual
/// range; below the CSDA range `r0_g_cm2`).
pub fn highland_scattering_power(
    table: &RangeTable,
    r0_g_cm2: f64,
    depth_g_cm2: f64,
    x0_g_cm2: f64,
) -> f64 {
    let ion = table.ion;
    let pv = ion.pv_mev(table.energy_at_residual_range(r0_g_cm2 - depth_g_cm2));
    (14.1 * f64::from(ion.z) / pv).powi(2) / x0_g_cm2
}

/// Highland's logarithmic factor [1 + ⅑ log₁₀(z/X₀)]² for a total thickness
/// `depth_g_cm2` (0 at zero depth).
pub fn highland_log_factor(depth_g_cm2: f64, x0_g_cm2: f64) -> f64 {
    if depth_g_cm2 <= 0.0 {
        return 0.0;
    }
    (1.0 + (depth_g_cm2 / x0_g_cm2).log10() / 9.0).powi(2)
}

/// Angular and lateral spread of a pencil beam after `depth_g_cm2` of water
/// (generalised Highland, Gottschalk et al. 1993, with Fermi–Eyges moments):
/// θ₀² = F ∫₀ᶻ T(z′) dz′ and σ_y² = F ∫₀ᶻ (z − z′)² T(z′) dz′, with
/// T = `highland_scattering_power` and F = `highland_log_factor` at z.
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
    let power = |zp: f64| highland_scattering_power(table, r0, zp, x0_g_cm2);
    let f = highland_log_factor(depth_g_cm2, x0_g_cm2);
    let z = depth_g_cm2;
    let theta2 = f * integrate(0.0, z, 200, power);
    let sigma2 = f * integrate(0.0, z, 200, |zp| (z - zp).powi(2) * power(zp));
    Ok((theta2.sqrt(), sigma2.sqrt()))
}

/// Two independent standard normal numbers (Box–Muller).
fn gaussian_pair<R: Rng>(rng: &mut R) -> (f64, f64) {
    let u: f64 = 1.0 - rng.random::<f64>();
    let r = (-2.0 * u.ln()).sqrt();
    let (s, c) = (std::f64::consts::TAU * rng.random::<f64>()).sin_cos();
    (r * c, r * s)
}

/// A multiple-scattering deflection for one condensed-history step with
/// projected-angle width `theta0` (rad), in the Gaussian (Rossi–Greisen)
/// form: (cos θ, φ) of the polar angle θ = √(θx² + θy²) (capped at π) and a
/// uniform azimuth φ (rad).
pub fn sample_gaussian_deflection<R: Rng>(rng: &mut R, theta0: f64) -> (f64, f64) {
    let (gx, gy) = gaussian_pair(rng);
    let theta = (theta0 * gx).hypot(theta0 * gy).min(std::f64::consts::PI);
    (theta.cos(), std::f64::consts::TAU * rng.random::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::Material;
    use rand::SeedableRng;

    /// 2·10⁵ deflections with θ₀ = 10 mrad: ⟨θ²⟩ = 2θ₀² within 1 % (the
    /// statistical σ is 0.22 %), P(θ > 2θ₀) = e⁻² = 0.1353 within 0.005, and
    /// a uniform azimuth (mean π within 0.5 %).
    #[test]
    fn gaussian_deflections_have_the_rossi_greisen_moments() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let (theta0, n) = (0.01, 200_000);
        let (mut sum_theta2, mut beyond, mut sum_phi) = (0.0, 0usize, 0.0);
        for _ in 0..n {
            let (cos_theta, phi) = sample_gaussian_deflection(&mut rng, theta0);
            let theta = cos_theta.clamp(-1.0, 1.0).acos();
            sum_theta2 += theta * theta;
            beyond += usize::from(theta > 2.0 * theta0);
            sum_phi += phi;
        }
        let n = n as f64;
        let mean_theta2 = sum_theta2 / n;
        assert!(
            (mean_theta2 / (2.0 * theta0 * theta0) - 1.0).abs() < 0.01,
            "{mean_theta2}"
        );
        assert!(
            (beyond as f64 / n - (-2.0f64).exp()).abs() < 0.005,
            "{beyond}"
        );
        assert!((sum_phi / n / std::f64::consts::PI - 1.0).abs() < 0.005);
    }

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
