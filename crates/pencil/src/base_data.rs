//! Depth tables per energy for the pencil-beam kernel, generated from
//! ferrodose's own physics (`ferrodose-physics`): the integrated depth–dose
//! curve (Bortfeld's model evaluated numerically for protons; primaries plus a
//! one-generation fragment model for ¹²C) split into the primaries' core and
//! the lateral tail (the protons' nuclear halo, the carbon fragments) with the
//! tail's σ, the multiple-scattering power in
//! water (generalised Highland, from which the engine integrates Fermi–Eyges
//! moments along each spot's ray), and the IDD weighted by LETd, by the MKM's
//! α and by the RBE, all on one WED grid in mm. Weighted IDDs go through the same kernel as the dose, so that
//! dose-averaged quantities of a plan are ratios of two kernel runs.

use crate::engine::{cutoff_sigmas2, SAME_ENERGY_MEV_U};
use ferrodose_physics::carbon_depth_dose::CarbonTables;
use ferrodose_physics::depth_dose::{DepthDose, DoseComponent};
use ferrodose_physics::radiobiology::{CarbonClinicalRbe, Mkm};
use ferrodose_physics::scattering::{highland_scattering_power, WATER_RADIATION_LENGTH_G_CM2};
use ferrodose_physics::{Ion, Material, PhysicsError, RangeTable};
use rayon::prelude::*;

/// How the RBE of a plan's dose is computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RbeModel {
    /// A constant RBE (1.1 for protons).
    Constant(f64),
    /// The NIRS clinical RBE of carbon ions from the dose-mean MKM α.
    CarbonClinical(CarbonClinicalRbe),
}

/// Which depth table the kernel integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Absorbed dose to water (Gy).
    Dose,
    /// Dose × RBE of each depth (Gy(RBE)), the linearised RBE-weighted dose
    /// that the optimiser uses.
    RbeWeightedDose,
    /// Dose × MKM α (Gy × Gy⁻¹); divided by the dose, the dose-mean α.
    AlphaDose,
    /// Dose × LETd (Gy·keV/µm); divided by the dose, the dose-averaged LET.
    LetDose,
}

/// Depth tables of an ion for a set of energies, rows of `n_depth` samples.
#[derive(Debug, Clone)]
pub struct IonBaseData {
    pub ion: Ion,
    /// Range table of the primary ion in water (for spot placement).
    pub range_table: RangeTable,
    pub rbe_model: RbeModel,
    /// Energies per nucleon (MeV/u), one table row each.
    pub energies_mev_u: Vec<f64>,
    /// WED step of the tables (mm).
    pub depth_step_mm: f64,
    /// Samples per row.
    pub n_depth: usize,
    /// IDD (MeV·cm²/g per particle) rows.
    pub idd: Vec<f32>,
    /// IDD × RBE rows.
    pub idd_rbe: Vec<f32>,
    /// IDD × MKM α (Gy⁻¹) rows (zero for a constant-RBE ion).
    pub idd_alpha: Vec<f32>,
    /// IDD × LETd (keV/µm) rows.
    pub idd_let: Vec<f32>,
    /// The part of each quantity's rows (indexed by `Quantity as usize`)
    /// deposited by the lateral tail: the nuclear halo of protons, the
    /// fragments of ¹²C.
    pub tail: [Vec<f32>; 4],
    /// σ (mm) of the tail's spread about the primaries, added in quadrature
    /// to the spot's σ: the dose-weighted r.m.s. over the tail's species.
    pub tail_sigma_mm: Vec<f32>,
    /// Scattering power of water without Highland's logarithmic factor
    /// (rad² per mm of water) rows; zero from 99 % of the CSDA range on.
    pub scattering_power: Vec<f32>,
    /// CSDA range of each energy (mm of water).
    pub csda_mm: Vec<f64>,
}

/// Constant proton RBE (the clinical standard).
pub const PROTON_RBE: f64 = 1.1;

impl IonBaseData {
    /// Tables for protons in water (I = 78 eV, ICRU 90) at `energies_mev`, with
    /// the machine's relative energy spread σ_E/E at each energy
    /// (`energy_spread`) and WED step `depth_step_mm`; constant RBE 1.1.
    pub fn protons(
        energies_mev: &[f64],
        energy_spread: impl Fn(f64) -> f64 + Sync,
        depth_step_mm: f64,
    ) -> Result<Self, PhysicsError> {
        let table = RangeTable::new(
            Ion::proton(),
            &Material::water(78.0),
            table_max_energy(energies_mev),
        )?;
        let curves = curves(energies_mev, |e| {
            DepthDose::proton(&table, e, energy_spread(e), depth_step_mm / 10.0)
        })?;
        let rbe = RbeModel::Constant(PROTON_RBE);
        Ok(Self::from_curves(
            table,
            rbe,
            energies_mev,
            &curves,
            depth_step_mm,
        ))
    }

    /// Tables for ¹²C in water (I = 78 eV) at `energies_mev_u`, primaries and
    /// fragments, with the NIRS clinical RBE from the MKM (HSG); energy spread
    /// as for `protons`.
    pub fn carbon(
        energies_mev_u: &[f64],
        energy_spread: impl Fn(f64) -> f64 + Sync,
        depth_step_mm: f64,
    ) -> Result<Self, PhysicsError> {
        let tables = CarbonTables::new(78.0, table_max_energy(energies_mev_u))?;
        let curves = curves(energies_mev_u, |e| {
            DepthDose::carbon(&tables, e, energy_spread(e), depth_step_mm / 10.0)
        })?;
        let rbe = RbeModel::CarbonClinical(CarbonClinicalRbe::nirs());
        Ok(Self::from_curves(
            tables.primary,
            rbe,
            energies_mev_u,
            &curves,
            depth_step_mm,
        ))
    }

    fn from_curves(
        table: RangeTable,
        rbe_model: RbeModel,
        energies: &[f64],
        curves: &[DepthDose],
        depth_step_mm: f64,
    ) -> Self {
        let n_depth = curves
            .iter()
            .map(|c| c.depth_g_cm2.len())
            .max()
            .unwrap_or(2)
            .max(2)
            + 1;
        let size = n_depth * curves.len();
        let (mut idd, mut idd_rbe, mut idd_alpha, mut idd_let) = (
            vec![0.0f32; size],
            vec![0.0f32; size],
            vec![0.0f32; size],
            vec![0.0f32; size],
        );
        let mut power = vec![0.0f32; size];
        let mut tail: [Vec<f32>; 4] = std::array::from_fn(|_| vec![0.0f32; size]);
        let mut tail_sigma_mm = vec![0.0f32; size];
        for (row, curve) in curves.iter().enumerate() {
            for (i, v) in curve.idd_mev_cm2_g.iter().enumerate() {
                let n = row * n_depth + i;
                idd[n] = *v as f32;
                idd_let[n] = (v * curve.letd_kev_um[i]) as f32;
                let (alpha_of, rbe) = match rbe_model {
                    RbeModel::Constant(r) => (None, r),
                    RbeModel::CarbonClinical(model) => {
                        let alpha_dose = alpha_weighted(&model.mkm, &curve.components, i);
                        let rbe = if *v > 0.0 {
                            model.rbe(alpha_dose / v)
                        } else {
                            0.0
                        };
                        (Some(model.mkm), rbe)
                    }
                };
                let alpha_dose = |species: &[DoseComponent]| {
                    alpha_of.map_or(0.0, |mkm| alpha_weighted(&mkm, species, i))
                };
                idd_alpha[n] = alpha_dose(&curve.components) as f32;
                idd_rbe[n] = (v * rbe) as f32;
                // Species beyond the first (the primaries) form the tail.
                let species = &curve.components[1.min(curve.components.len())..];
                let dose: f64 = species.iter().map(|c| c.idd_mev_cm2_g[i]).sum();
                if dose > 0.0 {
                    let let_dose: f64 = species
                        .iter()
                        .map(|c| c.idd_mev_cm2_g[i] * c.letd_kev_um[i])
                        .sum();
                    let spread2: f64 = species
                        .iter()
                        .map(|c| c.idd_mev_cm2_g[i] * c.spread_mm[i].powi(2))
                        .sum();
                    tail[Quantity::Dose as usize][n] = dose as f32;
                    tail[Quantity::RbeWeightedDose as usize][n] = (dose * rbe) as f32;
                    tail[Quantity::AlphaDose as usize][n] = alpha_dose(species) as f32;
                    tail[Quantity::LetDose as usize][n] = let_dose as f32;
                    tail_sigma_mm[n] = (spread2 / dose).sqrt() as f32;
                }
            }
            let r0 = curve.csda_g_cm2;
            for (i, t) in power[row * n_depth..][..n_depth].iter_mut().enumerate() {
                let z = i as f64 * depth_step_mm / 10.0;
                if z < 0.99 * r0 {
                    *t = (highland_scattering_power(&table, r0, z, WATER_RADIATION_LENGTH_G_CM2)
                        / 10.0) as f32;
                }
            }
        }
        Self {
            ion: table.ion,
            range_table: table,
            rbe_model,
            energies_mev_u: energies.to_vec(),
            depth_step_mm,
            n_depth,
            idd,
            idd_rbe,
            idd_alpha,
            idd_let,
            tail,
            tail_sigma_mm,
            scattering_power: power,
            csda_mm: curves.iter().map(|c| c.csda_g_cm2 * 10.0).collect(),
        }
    }

    /// Replaces the IDD of `energy_mev_u`'s row by a measured curve
    /// (`idd_mev_cm2_g` per particle at `depth_mm` in water, linear between
    /// depths, zero beyond the last, the first value before the first). The
    /// LETd, the RBE, the MKM α and the lateral tail's share and σ at each
    /// depth stay the model's (the weighted and tail rows are rescaled by
    /// measured/generated IDD); where the model's
    /// IDD is zero they take the model's last value. The scattering power
    /// stays the model's.
    /// A curve with more than 0.1 % of its peak beyond the depth the model's
    /// tables reach is refused.
    pub fn use_measured_idd(
        &mut self,
        energy_mev_u: f64,
        depth_mm: &[f64],
        idd_mev_cm2_g: &[f64],
    ) -> Result<(), String> {
        let row = self.row(energy_mev_u)?;
        let n = self.n_depth;
        // Dose beyond the tables' depth (more than 0.1 % of the peak) would be
        // cut off: refuse it.
        let table_end_mm = (n - 1) as f64 * self.depth_step_mm;
        let peak = idd_mev_cm2_g.iter().copied().fold(0.0, f64::max);
        if let Some(z) = depth_mm
            .iter()
            .zip(idd_mev_cm2_g)
            .find(|(z, d)| **z > table_end_mm && **d > 1e-3 * peak)
            .map(|(z, _)| z)
        {
            return Err(format!(
                "the measured IDD of {energy_mev_u} MeV/u has dose at {z} mm, beyond the {table_end_mm:.1} mm its model reaches: is the energy right?"
            ));
        }
        let (mut let_kev_um, mut rbe, mut alpha) = (0.0f32, 0.0f32, 0.0f32);
        let mut tail_share = [0.0f32; 4];
        for i in 0..n {
            let k = row * n + i;
            let z = i as f64 * self.depth_step_mm;
            let measured = interpolate_or_zero(depth_mm, idd_mev_cm2_g, z) as f32;
            let generated = self.idd[k];
            if generated > 0.0 {
                let_kev_um = self.idd_let[k] / generated;
                rbe = self.idd_rbe[k] / generated;
                alpha = self.idd_alpha[k] / generated;
                tail_share = std::array::from_fn(|q| self.tail[q][k] / generated);
            }
            self.idd[k] = measured;
            self.idd_let[k] = measured * let_kev_um;
            self.idd_rbe[k] = measured * rbe;
            self.idd_alpha[k] = measured * alpha;
            for (rows, share) in self.tail.iter_mut().zip(tail_share) {
                rows[k] = measured * share;
            }
        }
        Ok(())
    }

    /// The same depth tables with the lateral tail folded into the core: one
    /// Gaussian per spot, as single-Gaussian base data (the IDDs unchanged).
    pub fn without_tail(&self) -> Self {
        let mut base = self.clone();
        base.tail.iter_mut().for_each(|rows| rows.fill(0.0));
        base.tail_sigma_mm.fill(0.0);
        base
    }

    /// WED (mm) of energy row `row` from which every quantity's table is zero
    /// (or the tables' last sample): the kernels interpolate between zero
    /// rows, or stop, there, so a spot's profile need not go deeper.
    pub fn zero_from_mm(&self, row: usize) -> f64 {
        let n = self.n_depth;
        let last = [&self.idd, &self.idd_rbe, &self.idd_alpha, &self.idd_let]
            .iter()
            .map(|t| {
                t[row * n..][..n]
                    .iter()
                    .rposition(|v| *v != 0.0)
                    .map_or(0, |i| i + 1)
            })
            .max()
            .unwrap_or(0);
        last.min(n - 1) as f64 * self.depth_step_mm
    }

    /// The rows of `quantity`, all species.
    pub fn table(&self, quantity: Quantity) -> &[f32] {
        match quantity {
            Quantity::Dose => &self.idd,
            Quantity::RbeWeightedDose => &self.idd_rbe,
            Quantity::AlphaDose => &self.idd_alpha,
            Quantity::LetDose => &self.idd_let,
        }
    }

    /// The kernel's depth table of `quantity`: per energy and WED sample,
    /// (core, tail, tail σ in mm, the tail's squared cut-off in its σ), core +
    /// tail = `table(quantity)`. The tail's cut-off is that of its share of
    /// the dose for a lateral cut-off `fraction` (`engine::cutoff_sigmas2`),
    /// the same for every quantity.
    pub fn kernel_table(&self, quantity: Quantity, fraction: f64) -> Vec<[f32; 4]> {
        let (all, tail) = (self.table(quantity), &self.tail[quantity as usize]);
        let dose_tail = &self.tail[Quantity::Dose as usize];
        (0..self.idd.len())
            .map(|k| {
                let share = if self.idd[k] > 0.0 {
                    f64::from(dose_tail[k] / self.idd[k])
                } else {
                    0.0
                };
                let cutoff2 = if tail[k] > 0.0 {
                    cutoff_sigmas2(share, fraction) as f32
                } else {
                    0.0
                };
                [all[k] - tail[k], tail[k], self.tail_sigma_mm[k], cutoff2]
            })
            .collect()
    }

    /// RBE-weighted dose (Gy(RBE)) of a voxel from its dose (Gy) and, for
    /// carbon, its α-weighted dose (dose-mean α mixing).
    pub fn rbe_weighted(&self, dose_gy: f64, alpha_dose: f64) -> f64 {
        match self.rbe_model {
            RbeModel::Constant(r) => r * dose_gy,
            RbeModel::CarbonClinical(model) if dose_gy > 0.0 => {
                model.rbe(alpha_dose / dose_gy) * dose_gy
            }
            RbeModel::CarbonClinical(_) => 0.0,
        }
    }

    /// Row of the energy closest to `energy_mev_u`, or an error naming the
    /// tabulated range when it is not within `SAME_ENERGY_MEV_U` of a row.
    pub fn row(&self, energy_mev_u: f64) -> Result<usize, String> {
        self.energies_mev_u
            .iter()
            .position(|e| (e - energy_mev_u).abs() < SAME_ENERGY_MEV_U)
            .ok_or_else(|| {
                format!(
                    "energy {energy_mev_u} MeV/u is not in the base data ({} energies, {:.1}–{:.1} MeV/u)",
                    self.energies_mev_u.len(),
                    self.energies_mev_u.first().copied().unwrap_or(0.0),
                    self.energies_mev_u.last().copied().unwrap_or(0.0)
                )
            })
    }
}

/// Σ over `species` of dose × MKM α(LETd of the species) at depth index `i`.
fn alpha_weighted(mkm: &Mkm, species: &[DoseComponent], i: usize) -> f64 {
    species
        .iter()
        .map(|c| c.idd_mev_cm2_g[i] * mkm.alpha_per_gy(c.letd_kev_um[i]))
        .sum()
}

/// `ys` at `x` on ascending `xs`: linear inside, `ys[0]` before, zero after.
fn interpolate_or_zero(xs: &[f64], ys: &[f64], x: f64) -> f64 {
    let k = xs.partition_point(|v| *v <= x);
    if k == 0 {
        ys[0]
    } else if k == xs.len() {
        if x == xs[k - 1] {
            ys[k - 1]
        } else {
            0.0
        }
    } else {
        let t = (x - xs[k - 1]) / (xs[k] - xs[k - 1]);
        ys[k - 1] + t * (ys[k] - ys[k - 1])
    }
}

/// Upper end of the range tables: 5 % above the highest energy in use.
fn table_max_energy(energies: &[f64]) -> f64 {
    (energies.iter().copied().fold(0.0, f64::max) * 1.05).clamp(10.0, 1000.0)
}

/// One depth–dose curve per energy, in parallel.
fn curves(
    energies: &[f64],
    curve: impl Fn(f64) -> Result<DepthDose, PhysicsError> + Sync,
) -> Result<Vec<DepthDose>, PhysicsError> {
    energies.par_iter().map(|&e| curve(e)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Depth (mm) where `row` falls to 80 % of its maximum beyond the peak.
    fn r80_mm(base: &IonBaseData, row: usize) -> f64 {
        let idd = &base.idd[row * base.n_depth..][..base.n_depth];
        let (peak, max) =
            idd.iter()
                .enumerate()
                .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
        let i = peak + idd[peak..].iter().position(|v| *v < 0.8 * max).unwrap();
        let t = (idd[i - 1] - 0.8 * max) / (idd[i - 1] - idd[i]);
        (i as f64 - 1.0 + f64::from(t)) * base.depth_step_mm
    }

    /// The carbon tail is the fragments: none at the surface, all of the dose
    /// 10 mm beyond the peak; its σ at the CSDA range lies between the
    /// Goldhaber spreads of ¹¹C (the narrowest fragment) and of protons (the
    /// widest), θ·R₀/√3.
    #[test]
    fn carbon_tail_is_the_fragments() {
        use ferrodose_physics::nuclear::{fragment_angle_rad, fragment_spread_mm};
        let e = 290.0;
        let base = IonBaseData::carbon(&[e], |_| 0.0, 0.5).unwrap();
        let tail = &base.tail[Quantity::Dose as usize];
        let at = |mm: f64| (mm / base.depth_step_mm).round() as usize;
        let r0 = base.csda_mm[0];
        assert_eq!(tail[0], 0.0);
        let beyond = at(r0 + 10.0);
        assert!((tail[beyond] / base.idd[beyond] - 1.0).abs() < 1e-5);
        let sigma = f64::from(base.tail_sigma_mm[at(r0)]);
        let (lo, hi) = (
            fragment_spread_mm(fragment_angle_rad(11, 12, e), r0),
            fragment_spread_mm(fragment_angle_rad(1, 12, e), r0),
        );
        eprintln!(
            "290 MeV/u: tail share {:.3} at R0/2, {:.3} at R0; σ_tail {:.2} mm at R0/2, {sigma:.2} mm at R0 ({lo:.2}–{hi:.2})",
            tail[at(r0 / 2.0)] / base.idd[at(r0 / 2.0)],
            tail[at(r0)] / base.idd[at(r0)],
            base.tail_sigma_mm[at(r0 / 2.0)],
        );
        assert!(sigma > lo && sigma < hi, "{sigma} not in {lo}..{hi}");
    }

    /// The tables of 150 MeV protons and of 290 MeV/u carbon are zero from
    /// `zero_from_mm` on and not all zero one step before: beyond the CSDA
    /// range for protons (range straggling), more than 10 cm beyond it for
    /// carbon (the fragments).
    #[test]
    fn tables_are_zero_from_zero_from_mm() {
        let zero_beyond = |base: &IonBaseData, mm: f64| {
            let from = base.zero_from_mm(0);
            let at = (from / base.depth_step_mm).round() as usize;
            let tables = [&base.idd, &base.idd_rbe, &base.idd_alpha, &base.idd_let];
            assert!(tables.iter().all(|t| t[at..].iter().all(|v| *v == 0.0)));
            assert!(tables.iter().any(|t| t[at - 1] != 0.0));
            assert!(from > base.csda_mm[0] + mm, "{from} vs {}", base.csda_mm[0]);
        };
        zero_beyond(
            &IonBaseData::protons(&[150.0], |_| 0.008, 0.1).unwrap(),
            0.0,
        );
        zero_beyond(&IonBaseData::carbon(&[290.0], |_| 0.0, 0.5).unwrap(), 100.0);
    }

    /// A "measured" 150 MeV curve that is the model's own shifted 3 mm deeper
    /// (sampled every 0.5 mm) moves R80 by 3 mm (within 0.05 mm) and keeps
    /// the model's constant RBE and its LETd at each depth; a curve with dose
    /// beyond the tables is refused.
    #[test]
    fn measured_idds_replace_the_generated_ones() {
        let mut base = IonBaseData::protons(&[150.0], |_| 0.008, 0.1).unwrap();
        let model = base.clone();
        let n = base.n_depth;
        let depth_mm: Vec<f64> = (0..)
            .map(|k| f64::from(k) * 0.5)
            .take_while(|z| *z < 180.0)
            .collect();
        let shifted: Vec<f64> = depth_mm
            .iter()
            .map(|z| {
                let x = ((z - 3.0).max(0.0) / base.depth_step_mm) as usize;
                f64::from(model.idd.get(x).copied().unwrap_or(0.0))
            })
            .collect();
        base.use_measured_idd(150.0, &depth_mm, &shifted).unwrap();
        let shift = r80_mm(&base, 0) - r80_mm(&model, 0);
        assert!((shift - 3.0).abs() < 0.05, "{shift}");
        for i in (0..n).step_by(50).filter(|i| base.idd[*i] > 0.0) {
            assert!((base.idd_rbe[i] / base.idd[i] - 1.1).abs() < 1e-5);
            if model.idd[i] > 0.0 {
                let (got, want) = (
                    base.idd_let[i] / base.idd[i],
                    model.idd_let[i] / model.idd[i],
                );
                assert!((got / want - 1.0).abs() < 1e-5, "{got} vs {want}");
            }
        }
        let mut too_long = depth_mm.clone();
        too_long.push(n as f64 * base.depth_step_mm + 50.0);
        let mut values = shifted.clone();
        values.push(10.0);
        let e = base
            .use_measured_idd(150.0, &too_long, &values)
            .unwrap_err();
        assert!(e.contains("beyond"), "{e}");
    }
}
