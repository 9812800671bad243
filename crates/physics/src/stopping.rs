//! Electronic stopping power of ions (protons, carbon, any Z and A) by the
//! Bethe–Bloch formula with shell, density and Bloch corrections and Barkas's
//! effective charge.
//!
//! S/ρ = K z_eff² (Z/A) β⁻² [½ ln(2mc²β²γ² T_max / I²) − β² − δ/2 − C/Z + L_Bloch]
//! (PDG Review of Particle Physics, "Passage of particles through matter", eq. 34.5),
//! with
//! - T_max = 2mc²β²γ² / (1 + 2γ m/M + (m/M)²), the exact maximum energy transfer;
//! - C, the shell correction of Barkas and Berger (1964) in the form given by
//!   W. R. Leo, *Techniques for Nuclear and Particle Physics Experiments*, 2nd ed.
//!   (1994), eq. 2.33, valid for η = βγ ≥ 0.13 (E ≥ 7.9 MeV/u); below, its
//!   value at η = 0.13 continued as 1/η², the leading asymptotic form of the
//!   shell correction (∝ ⟨electron kinetic energy⟩/v², Fano 1963), down to
//!   2 MeV/u. Against PSTAR (liquid water, I = 75 eV) this is within 0.25 %
//!   from 2.5 to 8 MeV and 0.6 % at 2 MeV (Leo's polynomial itself is 34 % off
//!   at 2 MeV);
//! - δ, Sternheimer's density-effect correction where the material has parameters;
//! - L_Bloch = −y²[1.202 − y²(1.042 − 0.855y² + 0.343y⁴)], y = zα/β (PDG eq. 34.7 note);
//! - z_eff = z[1 − exp(−125 β z^(−2/3))] (Barkas 1963), which is 1 to 10⁻⁶ for
//!   protons above 2 MeV and within 0.5 % for carbon ions above 8 MeV/u.
//!
//! Not included: the Barkas (z³) correction and nuclear stopping (below 0.1 %
//! of the total above 2 MeV/u for protons in water, ICRU 49).

use crate::constants::{AMU_MEV, BETHE_K, ELECTRON_MASS_MEV, PROTON_MASS_MEV};
use crate::material::Material;
use crate::PhysicsError;

/// A fully stripped ion.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ion {
    /// Charge number z.
    pub z: u32,
    /// Mass number A (nucleons); energies are per nucleon.
    pub nucleons: u32,
    /// Rest energy of the nucleus (MeV).
    pub mass_mev: f64,
}

/// Lowest energy per nucleon of the Bethe model with its continued shell
/// correction (η = βγ = 0.065); below it ranges are extrapolated.
pub const BETHE_MIN_MEV_U: f64 = 2.0;
/// Lowest η = βγ of Leo's shell-correction polynomial.
const LEO_MIN_ETA: f64 = 0.13;
/// Highest energy per nucleon the tables cover.
pub const MAX_MEV_U: f64 = 1000.0;

impl Ion {
    /// The proton.
    pub fn proton() -> Self {
        Self {
            z: 1,
            nucleons: 1,
            mass_mev: PROTON_MASS_MEV,
        }
    }

    /// ¹²C⁶⁺: 12 u less six electron masses (binding neglected).
    pub fn carbon12() -> Self {
        Self {
            z: 6,
            nucleons: 12,
            mass_mev: 12.0 * AMU_MEV - 6.0 * ELECTRON_MASS_MEV,
        }
    }

    /// Any nucleus of charge `z` and mass number `a`, mass ≈ a·u.
    pub fn new(z: u32, a: u32) -> Self {
        Self {
            z,
            nucleons: a,
            mass_mev: f64::from(a) * AMU_MEV - f64::from(z) * ELECTRON_MASS_MEV,
        }
    }

    /// Lorentz γ and β² at kinetic energy `e_u` MeV per nucleon.
    pub fn gamma_beta2(&self, e_u: f64) -> (f64, f64) {
        let gamma = 1.0 + e_u * f64::from(self.nucleons) / self.mass_mev;
        (gamma, 1.0 - 1.0 / (gamma * gamma))
    }

    /// Momentum × velocity, pv (MeV), at `e_u` MeV per nucleon.
    pub fn pv_mev(&self, e_u: f64) -> f64 {
        let t = e_u * f64::from(self.nucleons);
        (t * t + 2.0 * t * self.mass_mev) / (t + self.mass_mev)
    }
}

pub(crate) fn density_correction(m: &Material, beta_gamma: f64) -> f64 {
    let Some(p) = m.density_effect else {
        return 0.0;
    };
    let x = beta_gamma.log10();
    let ln10 = std::f64::consts::LN_10;
    if x >= p.x1 {
        2.0 * ln10 * x - p.c_bar
    } else if x >= p.x0 {
        2.0 * ln10 * x - p.c_bar + p.a * (p.x1 - x).powf(p.m)
    } else {
        0.0
    }
}

/// Shell correction C (Leo 1994, eq. 2.33), `i_ev` in eV, η = βγ; below
/// η = 0.13 its value there × (0.13/η)².
fn shell_correction(i_ev: f64, eta: f64) -> f64 {
    if eta < LEO_MIN_ETA {
        return shell_correction(i_ev, LEO_MIN_ETA) * (LEO_MIN_ETA / eta).powi(2);
    }
    let (e2, e4, e6) = (eta.powi(-2), eta.powi(-4), eta.powi(-6));
    (0.422_377 * e2 + 0.030_404_3 * e4 - 0.000_381_06 * e6) * 1e-6 * i_ev.powi(2)
        + (3.858_019 * e2 - 0.166_798_9 * e4 + 0.001_579_55 * e6) * 1e-9 * i_ev.powi(3)
}

/// Mass electronic stopping power (MeV·cm²/g) of `ion` at `e_u` MeV/u in `m`:
/// the energy the whole ion loses per g/cm². Valid from 2 to 1000 MeV/u.
pub fn mass_stopping_power(ion: &Ion, e_u: f64, m: &Material) -> Result<f64, PhysicsError> {
    if !(BETHE_MIN_MEV_U..=MAX_MEV_U).contains(&e_u) {
        return Err(PhysicsError::EnergyOutOfRange {
            value: e_u,
            min: BETHE_MIN_MEV_U,
            max: MAX_MEV_U,
        });
    }
    Ok(bethe(ion, e_u, m))
}

/// The Bethe–Bloch expression without range check (used for extrapolation slopes).
pub(crate) fn bethe(ion: &Ion, e_u: f64, m: &Material) -> f64 {
    let (gamma, beta2) = ion.gamma_beta2(e_u);
    let beta = beta2.sqrt();
    let bg2 = beta2 * gamma * gamma;
    let ratio = ELECTRON_MASS_MEV / ion.mass_mev;
    let t_max = 2.0 * ELECTRON_MASS_MEV * bg2 / (1.0 + 2.0 * gamma * ratio + ratio * ratio);
    let z = f64::from(ion.z);
    let z_eff = z * (1.0 - (-125.0 * beta * z.powf(-2.0 / 3.0)).exp());
    let i_mev = m.i_ev * 1e-6;
    let y = z / (137.035_999 * beta);
    let y2 = y * y;
    let bloch = -y2 * (1.202 - y2 * (1.042 - 0.855 * y2 + 0.343 * y2 * y2));
    let l = 0.5 * (2.0 * ELECTRON_MASS_MEV * bg2 * t_max / (i_mev * i_mev)).ln()
        - beta2
        - 0.5 * density_correction(m, bg2.sqrt())
        - shell_correction(m.i_ev, bg2.sqrt()) / m.shell_z
        + bloch;
    BETHE_K * z_eff * z_eff * m.z_over_a() / beta2 * l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::{Material, WATER_I_ICRU49_EV};

    /// NIST PSTAR (ICRU 49, I = 75 eV), liquid water: electronic stopping power
    /// 7.286 MeV·cm²/g at 100 MeV (shared/reference/README.md) and total
    /// stopping powers of the PSTAR water table at 10–250 MeV (nuclear stopping is
    /// under 0.2 % of the total there). Issue 3 tolerance: 1 %.
    #[test]
    fn proton_water_stopping_matches_pstar() {
        let w = Material::water(WATER_I_ICRU49_EV);
        let s = mass_stopping_power(&Ion::proton(), 100.0, &w).unwrap();
        assert!((s / 7.286 - 1.0).abs() < 0.01, "{s}");
        for (e, pstar) in [
            (10.0, 45.67),
            (20.0, 26.07),
            (50.0, 12.45),
            (70.0, 9.559),
            (150.0, 5.445),
            (200.0, 4.492),
            (250.0, 3.911),
        ] {
            let s = mass_stopping_power(&Ion::proton(), e, &w).unwrap();
            assert!((s / pstar - 1.0).abs() < 0.01, "{e} MeV: {s} vs {pstar}");
        }
    }

    /// Below 8 MeV, where Leo's shell correction is continued as 1/η²:
    /// electronic stopping power against PSTAR (ICRU 49, I = 75 eV, liquid
    /// water; total stopping, nuclear stopping under 0.1 % here) within 0.7 %
    /// from 2 to 8 MeV.
    #[test]
    fn proton_water_stopping_below_8_mev_matches_pstar() {
        let w = Material::water(WATER_I_ICRU49_EV);
        for (e, pstar) in [
            (2.0, 158.6),
            (3.0, 117.2),
            (4.0, 94.04),
            (5.0, 79.11),
            (6.0, 68.58),
            (7.0, 60.71),
            (8.0, 54.60),
        ] {
            let s = mass_stopping_power(&Ion::proton(), e, &w).unwrap();
            assert!(
                (s / pstar - 1.0).abs() < 0.007,
                "{e} MeV: {s} vs {pstar} ({:+.2} %)",
                100.0 * (s / pstar - 1.0)
            );
        }
    }

    #[test]
    fn out_of_range_energies_are_refused() {
        let w = Material::water(78.0);
        assert!(matches!(
            mass_stopping_power(&Ion::proton(), 1.0, &w),
            Err(PhysicsError::EnergyOutOfRange { .. })
        ));
        assert!(mass_stopping_power(&Ion::proton(), 5000.0, &w).is_err());
    }

    /// At equal velocity a fully stripped ion loses z² times the proton's
    /// energy per unit path (the Bloch term aside, −0.35 % at 50 MeV/u): carbon to 0.5 %.
    #[test]
    fn carbon_scales_as_z_squared() {
        let w = Material::water(78.0);
        let (p_ion, c_ion) = (Ion::proton(), Ion::carbon12());
        for e in [50.0, 200.0, 400.0] {
            // Same γ: carbon energy per nucleon scaled by its mass per nucleon.
            let e_c = e * (c_ion.mass_mev / 12.0) / p_ion.mass_mev;
            let p = mass_stopping_power(&p_ion, e, &w).unwrap();
            let c = mass_stopping_power(&c_ion, e_c, &w).unwrap();
            assert!(
                (c / (36.0 * p) - 1.0).abs() < 0.005,
                "{e}: {}",
                c / (36.0 * p)
            );
        }
    }

    /// ¹²C in water against ICRU Report 73 (2005), electronic stopping power
    /// (MeV·cm²/g) as tabulated in libamtrack (`AT_StoppingPowerDataICRU.c`,
    /// liquid water, Z = 6). ICRU 73 used I = 67.2 eV for water (corrected to
    /// 78 eV by its 2009 erratum), so the comparison is at 67.2 eV: within 1 %
    /// from 20 to 500 MeV/u (−0.33 … −0.75 %). At 78 eV ours are 2.2 % lower,
    /// which is the erratum's size.
    #[test]
    fn carbon_stopping_against_icru73() {
        let w = Material::water(67.2);
        let icru73 = [
            (20.0, 948.3),
            (50.0, 452.5),
            (100.0, 265.3),
            (150.0, 198.3),
            (200.0, 163.7),
            (250.0, 142.6),
            (300.0, 128.4),
            (400.0, 110.7),
            (500.0, 100.2),
        ];
        for (e, reference) in icru73 {
            let s = mass_stopping_power(&Ion::carbon12(), e, &w).unwrap();
            eprintln!(
                "{e} MeV/u: {s:.1} vs ICRU 73 {reference} ({:+.2} %)",
                100.0 * (s / reference - 1.0)
            );
            assert!(
                (s / reference - 1.0).abs() < 0.01,
                "{e}: {s} vs {reference}"
            );
        }
    }
}
