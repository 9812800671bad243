//! CSDA range, range–energy tables and range straggling.
//!
//! R(E) = R(E₀) + ∫_{E₀}^{E} A dE′ / S(E′) in g/cm², E per nucleon, A nucleons.
//! Below E₀ = 2 MeV/u (the low end of the stopping-power model) the stopping
//! power is continued as a power law S ∝ T^(1−p) with the local slope
//! p = 1 − d ln S/d ln T at E₀, which gives R(E₀) = A·E₀ / (p·S(E₀)): for
//! protons in water 0.0074 g/cm², 6 % of the range at 10 MeV and 0.2 % at
//! 70 MeV.
//!
//! Range straggling: Bohr's energy-loss straggling with Tschalär's relativistic
//! factor, dσ_E²/d(ρx) = K·m_ec²·(Z/A)·z²·(1 − β²/2)/(1 − β²) (MeV² per g/cm²),
//! propagated as σ_R² = ∫ (dσ_E²/d(ρx)) / S³ dT (ICRU Report 49, sect. 2.6).

use crate::constants::{BETHE_K, ELECTRON_MASS_MEV};
use crate::material::Material;
use crate::quadrature::integrate;
use crate::stopping::{bethe, Ion, BETHE_MIN_MEV_U, MAX_MEV_U};
use crate::PhysicsError;

/// CSDA range, straggling and their inverse for one ion in one material, on a
/// logarithmic energy grid from 2 to `max_mev_u` MeV/u.
#[derive(Debug, Clone)]
pub struct RangeTable {
    pub ion: Ion,
    /// Energies per nucleon (MeV/u), ascending.
    pub energies_mev_u: Vec<f64>,
    /// CSDA range at each energy (g/cm²).
    pub csda_g_cm2: Vec<f64>,
    /// Range straggling σ_R at each energy (g/cm²).
    pub straggling_g_cm2: Vec<f64>,
    /// Exponent p of the power-law continuation below the table (S ∝ T^(1−p)).
    pub low_energy_p: f64,
    /// The columns' logarithms, for log–log interpolation with one `ln`, one
    /// `exp` and no search per lookup.
    ln: LnColumns,
}

/// The natural logarithms of a [`RangeTable`]'s columns; energy and range
/// are also interpolation axes.
#[derive(Debug, Clone)]
struct LnColumns {
    energies: LnAxis,
    csda: LnAxis,
    straggling: Vec<f64>,
}

/// An ascending table column as an interpolation axis: its logarithms and a
/// guide from uniform bins of ln x to the table entries, so that finding a
/// value's interval takes a step or two instead of a binary search.
#[derive(Debug, Clone)]
struct LnAxis {
    ln: Vec<f64>,
    /// For each bin b, the first entry whose ln exceeds the bin's lower edge.
    guide: Vec<usize>,
    ln_lo: f64,
    bins_per_ln: f64,
}

impl LnAxis {
    /// Guide bins per table entry.
    const BINS_PER_ENTRY: usize = 4;

    fn new(xs: &[f64]) -> Self {
        let ln: Vec<f64> = xs.iter().map(|x| x.ln()).collect();
        let (ln_lo, ln_hi) = (ln[0], ln[ln.len() - 1]);
        let bins = Self::BINS_PER_ENTRY * xs.len();
        let bins_per_ln = bins as f64 / (ln_hi - ln_lo);
        let guide = (0..=bins)
            .map(|b| ln.partition_point(|v| *v <= ln_lo + b as f64 / bins_per_ln))
            .collect();
        Self {
            ln,
            guide,
            ln_lo,
            bins_per_ln,
        }
    }

    /// The index i ≥ 1 of the interval [ln[i−1], ln[i]) that holds `ln_x`
    /// (the first or last interval beyond the table).
    fn interval(&self, ln_x: f64) -> usize {
        let n = self.ln.len();
        let last_bin = (self.guide.len() - 1) as f64;
        let b = ((ln_x - self.ln_lo) * self.bins_per_ln).clamp(0.0, last_bin) as usize;
        let mut i = self.guide[b];
        while i > 0 && self.ln[i - 1] > ln_x {
            i -= 1;
        }
        while i < n && self.ln[i] <= ln_x {
            i += 1;
        }
        i.clamp(1, n - 1)
    }

    /// y at `x` from `ln_ys`, linear in ln x and ln y.
    fn loglog(&self, ln_ys: &[f64], x: f64) -> f64 {
        let ln_x = x.ln();
        let i = self.interval(ln_x);
        let t = (ln_x - self.ln[i - 1]) / (self.ln[i] - self.ln[i - 1]);
        (ln_ys[i - 1] + t * (ln_ys[i] - ln_ys[i - 1])).exp()
    }
}

/// Grid points per decade of energy.
const PER_DECADE: usize = 200;

impl RangeTable {
    /// Integrates range and straggling for `ion` in `material` up to `max_mev_u`.
    pub fn new(ion: Ion, material: &Material, max_mev_u: f64) -> Result<Self, PhysicsError> {
        if !(BETHE_MIN_MEV_U..=MAX_MEV_U).contains(&max_mev_u) {
            return Err(PhysicsError::EnergyOutOfRange {
                value: max_mev_u,
                min: BETHE_MIN_MEV_U,
                max: MAX_MEV_U,
            });
        }
        let a = f64::from(ion.nucleons);
        let s = |e: f64| bethe(&ion, e, material);
        let strag = |e: f64| {
            let (_, b2) = ion.gamma_beta2(e);
            let z = f64::from(ion.z);
            BETHE_K * ELECTRON_MASS_MEV * material.z_over_a() * z * z * (1.0 - b2 / 2.0)
                / (1.0 - b2)
        };
        let e0 = BETHE_MIN_MEV_U;
        let h = 1e-3;
        let p = 1.0
            - ((s(e0 * (1.0 + h))).ln() - (s(e0 * (1.0 - h))).ln())
                / ((1.0 + h).ln() - (1.0 - h).ln());
        let r0 = a * e0 / (p * s(e0));
        // Straggling below E₀ under the same power law: ∫₀^{T₀} k/S³ dT with S = S₀(T/T₀)^(1−p).
        let t0 = a * e0;
        let v0 = strag(e0) * t0 / (s(e0).powi(3) * (3.0 * p - 2.0));

        let decades = (max_mev_u / e0).log10();
        let n = (decades * PER_DECADE as f64).ceil() as usize;
        let energies: Vec<f64> = (0..=n)
            .map(|i| e0 * (max_mev_u / e0).powf(i as f64 / n as f64))
            .collect();
        let (mut ranges, mut vars) = (vec![r0], vec![v0]);
        for w in energies.windows(2) {
            let dr = integrate(w[0], w[1], 1, |e| a / s(e));
            let dv = integrate(w[0], w[1], 1, |e| a * strag(e) / s(e).powi(3));
            ranges.push(ranges.last().unwrap() + dr);
            vars.push(vars.last().unwrap() + dv);
        }
        let straggling: Vec<f64> = vars.iter().map(|v| v.sqrt()).collect();
        Ok(Self {
            ion,
            ln: LnColumns {
                energies: LnAxis::new(&energies),
                csda: LnAxis::new(&ranges),
                straggling: straggling.iter().map(|x| x.ln()).collect(),
            },
            energies_mev_u: energies,
            csda_g_cm2: ranges,
            straggling_g_cm2: straggling,
            low_energy_p: p,
        })
    }

    fn check(&self, e: f64) -> Result<(), PhysicsError> {
        let (lo, hi) = (self.energies_mev_u[0], *self.energies_mev_u.last().unwrap());
        if !(lo..=hi).contains(&e) {
            return Err(PhysicsError::EnergyOutOfRange {
                value: e,
                min: lo,
                max: hi,
            });
        }
        Ok(())
    }

    /// CSDA range (g/cm²) at `e_u` MeV/u, log–log interpolation.
    pub fn csda_range(&self, e_u: f64) -> Result<f64, PhysicsError> {
        self.check(e_u)?;
        Ok(self.ln.energies.loglog(&self.ln.csda.ln, e_u))
    }

    /// Range straggling σ_R (g/cm²) at `e_u` MeV/u.
    pub fn range_straggling(&self, e_u: f64) -> Result<f64, PhysicsError> {
        self.check(e_u)?;
        Ok(self.ln.energies.loglog(&self.ln.straggling, e_u))
    }

    /// Energy per nucleon (MeV/u) whose CSDA range is `range_g_cm2`.
    pub fn energy_for_range(&self, range_g_cm2: f64) -> Result<f64, PhysicsError> {
        let (lo, hi) = (self.csda_g_cm2[0], *self.csda_g_cm2.last().unwrap());
        if !(lo..=hi).contains(&range_g_cm2) {
            return Err(PhysicsError::Invalid(format!(
                "range {range_g_cm2} g/cm² is outside the table's {lo:.4}–{hi:.2} g/cm²"
            )));
        }
        Ok(self.ln.csda.loglog(&self.ln.energies.ln, range_g_cm2))
    }
}

impl RangeTable {
    /// Energy per nucleon (MeV/u) of an ion with `residual_g_cm2` of range left,
    /// for any residual range from 0 to the table's end: below the table the
    /// power-law continuation E = E₀·(r/R₀)^(1/p).
    pub fn energy_at_residual_range(&self, residual_g_cm2: f64) -> f64 {
        self.energy_and_stopping_at_residual_range(residual_g_cm2).0
    }

    /// CSDA range (g/cm²) at any energy per nucleon up to the table's end:
    /// below the table the power-law continuation R = R₀·(E/E₀)^p.
    pub fn residual_range_at_energy(&self, e_u: f64) -> f64 {
        let (r0, e0) = (self.csda_g_cm2[0], self.energies_mev_u[0]);
        if e_u <= 0.0 {
            0.0
        } else if e_u < e0 {
            r0 * (e_u / e0).powf(self.low_energy_p)
        } else {
            let e = e_u.min(*self.energies_mev_u.last().unwrap());
            self.ln.energies.loglog(&self.ln.csda.ln, e)
        }
    }

    /// Stopping power (MeV·cm²/g) of the whole ion with `residual_g_cm2` of
    /// range left, S = A·dE/dR, consistent with the table (power law below it).
    pub fn stopping_at_residual_range(&self, residual_g_cm2: f64) -> f64 {
        self.energy_and_stopping_at_residual_range(residual_g_cm2).1
    }

    /// Energy per nucleon E (MeV/u) and stopping power S = A·dE/dR
    /// (MeV·cm²/g) of an ion with `residual_g_cm2` of range left, from one
    /// table interval: E(R) is linear in log–log within it, so S is A·E/R
    /// times the interval's log–log slope; below the table the power law
    /// E = E₀·(r/R₀)^(1/p), dE/dr = E/(p·r). Beyond the table's end E is held.
    pub fn energy_and_stopping_at_residual_range(&self, residual_g_cm2: f64) -> (f64, f64) {
        let a = f64::from(self.ion.nucleons);
        let (r0, e0) = (self.csda_g_cm2[0], self.energies_mev_u[0]);
        if residual_g_cm2 <= 0.0 {
            return (0.0, 0.0);
        }
        if residual_g_cm2 < r0 {
            let p = self.low_energy_p;
            let e = e0 * (residual_g_cm2 / r0).powf(1.0 / p);
            return (e, a * e / (p * residual_g_cm2));
        }
        let (ln_r, ln_e) = (&self.ln.csda.ln, &self.ln.energies.ln);
        let ln_u = residual_g_cm2.min(*self.csda_g_cm2.last().unwrap()).ln();
        let i = self.ln.csda.interval(ln_u);
        let slope = (ln_e[i] - ln_e[i - 1]) / (ln_r[i] - ln_r[i - 1]);
        let e = (ln_e[i - 1] + slope * (ln_u - ln_r[i - 1])).exp();
        (e, a * slope * e / residual_g_cm2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::material::WATER_I_ICRU49_EV;

    /// NIST PSTAR (ICRU 49, I = 75 eV) CSDA ranges of protons in liquid water
    /// (g/cm²): 70, 100, 150, 200 MeV as in shared/reference/README.md, the
    /// others from the PSTAR water table. Issue 3 tolerance: 0.5 % from 10 to
    /// 250 MeV (10 MeV: −0.25 %, the worst).
    #[test]
    fn proton_ranges_match_pstar() {
        let t = RangeTable::new(Ion::proton(), &Material::water(WATER_I_ICRU49_EV), 300.0).unwrap();
        for (e, pstar) in [
            (10.0, 0.1230),
            (15.0, 0.2539),
            (20.0, 0.4260),
            (30.0, 0.8853),
            (50.0, 2.227),
            (70.0, 4.080),
            (80.0, 5.184),
            (100.0, 7.718),
            (125.0, 11.46),
            (150.0, 15.77),
            (175.0, 20.62),
            (200.0, 25.96),
            (225.0, 31.74),
            (250.0, 37.94),
        ] {
            let r = t.csda_range(e).unwrap();
            eprintln!(
                "{e} MeV: {r:.5} vs PSTAR {pstar} ({:+.2} %)",
                100.0 * (r / pstar - 1.0)
            );
            assert!((r / pstar - 1.0).abs() < 0.005, "{e} MeV: {r} vs {pstar}");
            let back = t.energy_for_range(r).unwrap();
            assert!((back / e - 1.0).abs() < 1e-6);
        }
    }

    /// The stopping power recovered from the range table agrees with the
    /// Bethe model it was integrated from (0.2 %), and is continuous at 2 MeV.
    /// The guide finds the interval a binary search finds, at the table's
    /// entries, between them and beyond both ends.
    #[test]
    fn guided_interval_is_the_binary_search_interval() {
        let t = RangeTable::new(Ion::proton(), &Material::water(WATER_I_ICRU49_EV), 300.0).unwrap();
        let xs = &t.csda_g_cm2;
        let n = xs.len();
        let mut probes: Vec<f64> = xs.clone();
        probes.extend(xs.windows(2).map(|w| 0.5 * (w[0] + w[1])));
        probes.extend(xs.iter().map(|x| x * (1.0 + 1e-15)));
        probes.extend([xs[0] * 0.5, xs[n - 1] * 2.0, 1e-9, 1e9]);
        for x in probes {
            let expected = xs.partition_point(|v| *v <= x).clamp(1, n - 1);
            assert_eq!(t.ln.csda.interval(x.ln()), expected, "x = {x}");
        }
    }

    #[test]
    fn stopping_from_residual_range_is_consistent() {
        let w = Material::water(78.0);
        let t = RangeTable::new(Ion::proton(), &w, 250.0).unwrap();
        for e in [10.0, 50.0, 150.0, 240.0] {
            let r = t.csda_range(e).unwrap();
            let s = crate::stopping::mass_stopping_power(&Ion::proton(), e, &w).unwrap();
            let back = t.stopping_at_residual_range(r);
            assert!((back / s - 1.0).abs() < 0.002, "{e}: {back} vs {s}");
            assert!((t.energy_at_residual_range(r) / e - 1.0).abs() < 1e-9);
        }
        let r0 = t.csda_g_cm2[0];
        let below = t.stopping_at_residual_range(r0 * (1.0 - 1e-9));
        let above = t.stopping_at_residual_range(r0 * (1.0 + 1e-9));
        assert!((below / above - 1.0).abs() < 0.01, "{below} vs {above}");
    }

    /// ICRU 90's I = 78 eV lengthens ranges by a few tenths of a percent.
    #[test]
    fn water_i_78_lengthens_ranges_slightly() {
        let r75 = RangeTable::new(Ion::proton(), &Material::water(75.0), 250.0).unwrap();
        let r78 = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0).unwrap();
        for e in [70.0, 150.0, 230.0] {
            let d = r78.csda_range(e).unwrap() / r75.csda_range(e).unwrap() - 1.0;
            assert!((0.001..0.01).contains(&d), "{e}: {d}");
        }
    }

    /// Bortfeld (Med Phys 24:2024, 1997): σ_R ≈ 0.012·R^0.935 cm in water.
    /// The fit represents ICRU 49 data to a few per cent; tolerance 10 %.
    #[test]
    fn range_straggling_matches_bortfeld() {
        let t = RangeTable::new(Ion::proton(), &Material::water(75.0), 250.0).unwrap();
        for e in [70.0, 100.0, 150.0, 200.0, 230.0] {
            let r = t.csda_range(e).unwrap();
            let s = t.range_straggling(e).unwrap();
            let bortfeld = 0.012 * r.powf(0.935);
            assert!(
                (s / bortfeld - 1.0).abs() < 0.10,
                "{e} MeV: σ {s} vs {bortfeld}"
            );
        }
    }

    /// Any ion: at equal velocity ⁴He²⁺ goes (M_He/M_p)/z² = 0.993 times as
    /// far as a proton (the Bloch term aside), to 1 %.
    #[test]
    fn helium_range_equals_proton_range_at_equal_velocity() {
        let w = Material::water(78.0);
        let (p_ion, he) = (Ion::proton(), Ion::new(2, 4));
        let p = RangeTable::new(p_ion, &w, 300.0).unwrap();
        let h = RangeTable::new(he, &w, 250.0).unwrap();
        for e in [70.0, 150.0, 220.0] {
            let e_p = e * p_ion.mass_mev / (he.mass_mev / 4.0);
            let ratio = h.csda_range(e).unwrap() / p.csda_range(e_p).unwrap();
            let expected = he.mass_mev / p_ion.mass_mev / 4.0;
            assert!(
                (ratio / expected - 1.0).abs() < 0.01,
                "{e}: {ratio} vs {expected}"
            );
        }
    }

    /// ¹²C CSDA ranges in water against ICRU Report 73 (2005): its tabulated
    /// electronic stopping powers of carbon in liquid water (as transcribed in
    /// libamtrack, `AT_StoppingPowerDataICRU.c`, MeV·cm²/mg), integrated
    /// here as R(E) = ∫ A dE′/S with S a power law between table energies
    /// (ICRU 73 tabulates stopping powers; this is its range). At ICRU 73's
    /// I = 67.2 eV our ranges are 0.5–0.8 % longer from 100 to 430 MeV/u;
    /// issue 3's tolerance is 1.5 %.
    #[test]
    fn carbon_ranges_against_icru73() {
        let energy = [
            0.025, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5,
            0.6, 0.7, 0.8, 0.9, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 15.0,
            20.0, 25.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 150.0, 200.0, 250.0,
            300.0, 400.0, 500.0,
        ];
        let s_mev_cm2_mg = [
            4.154, 4.593, 5.358, 6.009, 6.568, 7.049, 7.460, 7.809, 8.103, 8.968, 9.262, 9.311,
            9.250, 8.994, 8.680, 8.358, 8.045, 7.747, 7.465, 7.199, 6.093, 5.269, 4.636, 4.137,
            3.403, 2.891, 2.516, 2.230, 2.004, 1.823, 1.673, 1.200, 0.9483, 0.7904, 0.6817, 0.5406,
            0.4525, 0.3920, 0.3477, 0.3138, 0.2870, 0.2653, 0.1983, 0.1637, 0.1426, 0.1284, 0.1107,
            0.1002,
        ];
        let s: Vec<f64> = s_mev_cm2_mg.iter().map(|v| v * 1000.0).collect();
        let mut icru73 = vec![12.0 * energy[0] / s[0] / 2.0];
        for i in 0..energy.len() - 1 {
            let k = (s[i + 1] / s[i]).ln() / (energy[i + 1] / energy[i]).ln();
            let a = 1.0 - k;
            let segment =
                12.0 / s[i] * energy[i].powf(k) * (energy[i + 1].powf(a) - energy[i].powf(a)) / a;
            icru73.push(icru73[i] + segment);
        }
        let ours = RangeTable::new(Ion::carbon12(), &Material::water(67.2), 500.0).unwrap();
        let ln = |xs: &[f64]| -> Vec<f64> { xs.iter().map(|x| x.ln()).collect() };
        for e in [100.0, 150.0, 200.0, 250.0, 290.0, 300.0, 400.0, 430.0] {
            let reference = LnAxis::new(&energy).loglog(&ln(&icru73), e);
            let r = ours.csda_range(e).unwrap();
            eprintln!(
                "{e} MeV/u: {r:.4} vs ICRU 73 {reference:.4} g/cm² ({:+.2} %)",
                100.0 * (r / reference - 1.0)
            );
            assert!(
                (r / reference - 1.0).abs() < 0.015,
                "{e}: {r} vs {reference}"
            );
        }
    }

    /// Carbon ranges: at equal velocity the range scales as (M_C/M_p)/z² = 0.3308
    /// (shared/reference/README.md; the Bloch term, which lengthens carbon ranges
    /// by a few tenths of a percent, aside), to 1 %.
    #[test]
    fn carbon_range_scales_from_proton() {
        let w = Material::water(78.0);
        let (p_ion, c_ion) = (Ion::proton(), Ion::carbon12());
        let p = RangeTable::new(p_ion, &w, 500.0).unwrap();
        let c = RangeTable::new(c_ion, &w, 450.0).unwrap();
        let expected = c_ion.mass_mev / p_ion.mass_mev / 36.0;
        for e in [100.0, 290.0, 400.0, 430.0] {
            let e_p = e * p_ion.mass_mev / (c_ion.mass_mev / 12.0);
            let ratio = c.csda_range(e).unwrap() / p.csda_range(e_p).unwrap();
            assert!(
                (ratio / expected - 1.0).abs() < 0.01,
                "{e}: {ratio} vs {expected}"
            );
        }
        eprintln!(
            "carbon CSDA range at 290 MeV/u {:.3} g/cm², at 400 MeV/u {:.3} g/cm²",
            c.csda_range(290.0).unwrap(),
            c.csda_range(400.0).unwrap()
        );
        // About 16 cm at 290 MeV/u and 27 cm at 400 MeV/u (reference README): 3 %.
        assert!((c.csda_range(290.0).unwrap() / 16.0 - 1.0).abs() < 0.03);
        assert!((c.csda_range(400.0).unwrap() / 27.0 - 1.0).abs() < 0.03);
    }
}
