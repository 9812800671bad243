//! Nuclear interactions: total reaction cross sections and the projectile
//! fragments of ¹²C in water.
//!
//! Cross sections: Sihver, Tsao, Silberberg, Kanai, Barghouty, Phys Rev C
//! 47:1225 (1993), the energy-independent high-energy form (≳ 100 MeV/u):
//! - nucleus–nucleus: σ_R = π r₀² [A_P^⅓ + A_T^⅓ − b₀(A_P^−⅓ + A_T^−⅓)]²,
//!   b₀ = 1.581 − 0.876 (A_P^−⅓ + A_T^−⅓);
//! - proton–nucleus (either partner A = 1): σ_R = π r₀² [1 + A^⅓ − b₀(1 + A^−⅓)]²,
//!   b₀ = 2.247 − 0.915 (1 + A^−⅓);
//!
//! with r₀ = 1.36 fm. Proton–proton collisions below the pion threshold are
//! elastic and remove no primary: σ = 0.

use crate::stopping::Ion;

/// Avogadro's number (mol⁻¹).
const AVOGADRO: f64 = 6.022_140_76e23;
/// Sihver's radius parameter r₀ (fm).
const R0_FM: f64 = 1.36;
/// 1 fm² = 10 mb = 10⁻²⁶ cm².
const CM2_PER_FM2: f64 = 1e-26;

/// Total reaction cross section (mb) of a projectile of mass number
/// `a_projectile` on a target nucleus of mass number `a_target` (Sihver 1993).
pub fn reaction_cross_section_mb(a_projectile: u32, a_target: u32) -> f64 {
    let (ap, at) = (f64::from(a_projectile), f64::from(a_target));
    let bracket = match (a_projectile, a_target) {
        (1, 1) => return 0.0,
        (1, _) | (_, 1) => {
            let a = ap.max(at);
            let inv = 1.0 + a.powf(-1.0 / 3.0);
            let b0 = 2.247 - 0.915 * inv;
            1.0 + a.cbrt() - b0 * inv
        }
        _ => {
            let inv = ap.powf(-1.0 / 3.0) + at.powf(-1.0 / 3.0);
            let b0 = 1.581 - 0.876 * inv;
            ap.cbrt() + at.cbrt() - b0 * inv
        }
    };
    std::f64::consts::PI * R0_FM * R0_FM * bracket * bracket * 10.0
}

/// Macroscopic reaction cross section of water, μ = N_A/M_H₂O · (2σ_H + σ_O),
/// for a projectile of mass number `a_projectile` (cm²/g): the fraction of
/// primaries lost per g/cm².
pub fn water_attenuation_cm2_g(a_projectile: u32) -> f64 {
    let molecules_per_g = AVOGADRO / 18.015;
    let sigma_fm2 = (2.0 * reaction_cross_section_mb(a_projectile, 1)
        + reaction_cross_section_mb(a_projectile, 16))
        / 10.0;
    molecules_per_g * sigma_fm2 * CM2_PER_FM2
}

/// A projectile fragment of ¹²C and its mean number per nuclear reaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fragment {
    pub ion: Ion,
    /// Mean number produced per reaction of a ¹²C ion in water.
    pub multiplicity: f64,
}

/// Projectile fragments of ¹²C in water, one representative isotope per charge
/// (¹¹C for the neutron-removal channels), emitted at the projectile's velocity.
///
/// The multiplicities are ferrodose's estimates, not measured values: they
/// conserve charge (Σ z·n = 5.5 of 6; the rest goes to target-side and
/// wide-angle protons) and follow the ordering of the charge-changing cross
/// sections reviewed by Schardt, Elsässer, Schulz-Ertner, Rev Mod Phys 82:383
/// (2010): H and He dominate, Li, Be and B are each about a tenth. The tail
/// they produce is compared with the published tail height in
/// `docs/validation.md`.
pub fn carbon_fragments() -> [Fragment; 6] {
    let f = |z, a, multiplicity| Fragment {
        ion: Ion::new(z, a),
        multiplicity,
    };
    [
        f(6, 11, 0.13),
        f(5, 10, 0.20),
        f(4, 7, 0.12),
        f(3, 6, 0.15),
        f(2, 4, 0.90),
        f(1, 1, 1.00),
    ]
}

/// Goldhaber's momentum width σ₀ (MeV/c) of projectile fragments, measured
/// for ¹²C and ¹⁶O fragmentation by Greiner et al., Phys Rev Lett 35:152
/// (1975): σ₀ ≈ 86 MeV/c.
pub const GOLDHABER_SIGMA0_MEV_C: f64 = 86.0;

/// Atomic mass unit (MeV/c²), the rest energy per nucleon used for momenta.
const MEV_PER_U: f64 = 931.494;

/// Projected r.m.s. angle (rad) of a fragment of mass number `a_fragment`
/// leaving a projectile of `a_projectile` nucleons at `energy_mev_u`: the
/// Goldhaber (Phys Lett B 53:306, 1974) transverse momentum width
/// σ_p² = σ₀² A_F (A_P − A_F)/(A_P − 1) over the fragment's momentum A_F·p,
/// p the momentum per nucleon at the projectile's velocity.
pub fn fragment_angle_rad(a_fragment: u32, a_projectile: u32, energy_mev_u: f64) -> f64 {
    let (af, ap) = (f64::from(a_fragment), f64::from(a_projectile));
    if a_projectile < 2 || a_fragment >= a_projectile {
        return 0.0;
    }
    let sigma_p = GOLDHABER_SIGMA0_MEV_C * (af * (ap - af) / (ap - 1.0)).sqrt();
    let p_per_u = (energy_mev_u * (energy_mev_u + 2.0 * MEV_PER_U)).sqrt();
    sigma_p / (af * p_per_u)
}

/// Lateral σ (mm) of fragments of projected angle `theta_rad` at depth
/// `depth_mm`, made uniformly along the path before it: the mean squared
/// lever arm over production depths 0..z is z²/3, so σ = θ·z/√3 (the
/// primaries' attenuation over the path is neglected).
pub fn fragment_spread_mm(theta_rad: f64, depth_mm: f64) -> f64 {
    theta_rad * depth_mm / 3f64.sqrt()
}

/// σ (mm) of the nuclear halo of a proton pencil beam of CSDA range
/// `csda_mm` in water. Gottschalk, Cascio, Daartz, Wagner (Phys Med Biol
/// 60:5627, 2015) find the halo of charged nuclear secondaries reaching a radius of
/// about one third of the range; ferrodose reads that radius as the one
/// holding 95 % of a 2-D Gaussian's dose, r = σ√(2 ln 20), so
/// σ = R/(3√(2 ln 20)) ≈ R/7.34, the same at every depth. An estimate from
/// the published halo radius, not a fit to measured profiles.
pub fn proton_halo_sigma_mm(csda_mm: f64) -> f64 {
    csda_mm / (3.0 * (2.0 * 20f64.ln()).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand evaluation of Sihver's formulas:
    /// p + ¹²C: b₀ = 2.247 − 0.915·1.436806 = 0.932322, bracket = 3.289428 − 0.932322·1.436806
    /// = 1.949866, σ = π·1.8496·3.802 = 220.92 mb;
    /// ¹²C + ¹⁶O: Σ A^−⅓ = 0.436806 + 0.396850 = 0.833656, b₀ = 0.850717, bracket
    /// = 2.289428 + 2.519842 − 0.709205 = 4.100065, σ = 976.8 mb.
    #[test]
    fn sihver_hand_values() {
        let p_c = reaction_cross_section_mb(1, 12);
        assert!((p_c - 220.92).abs() < 0.1, "{p_c}");
        assert_eq!(p_c, reaction_cross_section_mb(12, 1));
        let c_o = reaction_cross_section_mb(12, 16);
        assert!((c_o - 976.8).abs() < 0.3, "{c_o}");
        assert_eq!(reaction_cross_section_mb(1, 1), 0.0);
    }

    /// Protons in water: Sihver's p + ¹⁶O gives μ within 25 % of Bortfeld's
    /// empirical primary-fluence loss of 0.012 cm²/g (Med Phys 24:2024, 1997),
    /// which also counts non-elastic channels the total reaction formula
    /// underestimates at low energy.
    #[test]
    fn proton_attenuation_near_bortfeld() {
        let mu = water_attenuation_cm2_g(1);
        assert!((mu / 0.012 - 1.0).abs() < 0.25, "{mu}");
    }

    /// Carbon in water: about half of the primaries are lost over a 20 cm
    /// range (shared/reference/README.md, from Schardt et al. 2010); the
    /// surviving fraction exp(−20μ) lies within 0.35–0.60.
    #[test]
    fn carbon_survival_over_20_cm() {
        let survival = (-20.0 * water_attenuation_cm2_g(12)).exp();
        eprintln!("¹²C survival over 20 g/cm² of water: {survival:.3}");
        assert!((0.35..0.60).contains(&survival), "{survival}");
    }

    /// Fragment charges sum to less than the projectile's.
    #[test]
    fn fragments_conserve_charge() {
        let z: f64 = carbon_fragments()
            .iter()
            .map(|f| f64::from(f.ion.z) * f.multiplicity)
            .sum();
        assert!(z <= 6.0, "{z}");
    }

    /// Goldhaber widths by hand at 290 MeV/u (p = √(290 × 2152.988) =
    /// 790.17 MeV/c per nucleon): a proton from ¹²C σ_p = 86 MeV/c, θ =
    /// 0.10884 rad; ⁴He σ_p = 86·√(32/11) = 146.68 MeV/c, θ = 0.046408 rad.
    /// The halo σ of a 200 mm range is 200/7.3434 = 27.235 mm.
    #[test]
    fn lateral_spread_hand_values() {
        let h = fragment_angle_rad(1, 12, 290.0);
        let he = fragment_angle_rad(4, 12, 290.0);
        assert!((h - 0.10884).abs() < 1e-4, "{h}");
        assert!((he - 0.046408).abs() < 1e-5, "{he}");
        assert_eq!(fragment_angle_rad(1, 1, 200.0), 0.0);
        let s = fragment_spread_mm(h, 150.0);
        assert!((s - 0.10884 * 150.0 / 3f64.sqrt()).abs() < 0.01, "{s}");
        let halo = proton_halo_sigma_mm(200.0);
        assert!((halo - 27.235).abs() < 0.01, "{halo}");
    }
}
