//! Depth tables per energy for the pencil-beam kernel, generated from
//! ferrodose's own physics (`ferrodose-physics`): the integrated depth–dose
//! curve (Bortfeld's model evaluated numerically for protons; primaries plus a
//! one-generation fragment model for ¹²C), the σ of multiple Coulomb
//! scattering in water (generalised Highland with Fermi–Eyges moments), and
//! the IDD weighted by LETd, by the MKM's α and by the RBE, all on one WED
//! grid in mm. Weighted IDDs go through the same kernel as the dose, so that
//! dose-averaged quantities of a plan are ratios of two kernel runs.

use ferrodose_physics::carbon_depth_dose::CarbonTables;
use ferrodose_physics::depth_dose::DepthDose;
use ferrodose_physics::radiobiology::{CarbonClinicalRbe, Mkm};
use ferrodose_physics::scattering::{pencil_beam_spread, WATER_RADIATION_LENGTH_G_CM2};
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
    /// σ of multiple Coulomb scattering (mm) rows.
    pub sigma_mcs_mm: Vec<f32>,
    /// CSDA range of each energy (mm of water).
    pub csda_mm: Vec<f64>,
    /// Distal 80 % depth of each IDD (mm of water).
    pub r80_mm: Vec<f64>,
}

/// Constant proton RBE (the clinical standard).
pub const PROTON_RBE: f64 = 1.1;

impl IonBaseData {
    /// Tables for protons in water (I = 78 eV, ICRU 90) at `energies_mev`, with
    /// relative energy spread `energy_spread` (σ_E/E) and WED step
    /// `depth_step_mm`; constant RBE 1.1.
    pub fn protons(
        energies_mev: &[f64],
        energy_spread: f64,
        depth_step_mm: f64,
    ) -> Result<Self, PhysicsError> {
        let table = RangeTable::new(
            Ion::proton(),
            &Material::water(78.0),
            table_max_energy(energies_mev),
        )?;
        let curves = curves(energies_mev, |e| {
            DepthDose::proton(&table, e, energy_spread, depth_step_mm / 10.0)
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
    /// fragments, with the NIRS clinical RBE from the MKM (HSG).
    pub fn carbon(
        energies_mev_u: &[f64],
        energy_spread: f64,
        depth_step_mm: f64,
    ) -> Result<Self, PhysicsError> {
        let tables = CarbonTables::new(78.0, table_max_energy(energies_mev_u))?;
        let curves = curves(energies_mev_u, |e| {
            DepthDose::carbon(&tables, e, energy_spread, depth_step_mm / 10.0)
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
        let mut sigma = vec![0.0f32; size];
        for (row, (curve, &e)) in curves.iter().zip(energies).enumerate() {
            for (i, v) in curve.idd_mev_cm2_g.iter().enumerate() {
                let n = row * n_depth + i;
                idd[n] = *v as f32;
                idd_let[n] = (v * curve.letd_kev_um[i]) as f32;
                let (alpha_dose, rbe) = match rbe_model {
                    RbeModel::Constant(r) => (0.0, r),
                    RbeModel::CarbonClinical(model) => {
                        let alpha_dose = alpha_weighted(&model.mkm, curve, i);
                        let rbe = if *v > 0.0 {
                            model.rbe(alpha_dose / v)
                        } else {
                            0.0
                        };
                        (alpha_dose, rbe)
                    }
                };
                idd_alpha[n] = alpha_dose as f32;
                idd_rbe[n] = (v * rbe) as f32;
            }
            for (i, s) in mcs_sigma_mm(&table, e, curve.csda_g_cm2, n_depth, depth_step_mm)
                .into_iter()
                .enumerate()
            {
                sigma[row * n_depth + i] = s as f32;
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
            sigma_mcs_mm: sigma,
            csda_mm: curves.iter().map(|c| c.csda_g_cm2 * 10.0).collect(),
            r80_mm: curves.iter().map(|c| c.distal_depth(0.8) * 10.0).collect(),
        }
    }

    /// The rows of `quantity`.
    pub fn table(&self, quantity: Quantity) -> &[f32] {
        match quantity {
            Quantity::Dose => &self.idd,
            Quantity::RbeWeightedDose => &self.idd_rbe,
            Quantity::AlphaDose => &self.idd_alpha,
            Quantity::LetDose => &self.idd_let,
        }
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
    /// tabulated range when it is not within 0.01 MeV/u of a row.
    pub fn row(&self, energy_mev_u: f64) -> Result<usize, String> {
        self.energies_mev_u
            .iter()
            .position(|e| (e - energy_mev_u).abs() < 0.01)
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

/// Σ over species of dose × MKM α(LETd of the species) at depth index `i`.
fn alpha_weighted(mkm: &Mkm, curve: &DepthDose, i: usize) -> f64 {
    curve
        .components
        .iter()
        .map(|c| c.idd_mev_cm2_g[i] * mkm.alpha_per_gy(c.letd_kev_um[i]))
        .sum()
}

/// σ_MCS (mm) on the table's WED grid: generalised Highland on a 1 mm grid up
/// to 99 % of the range, interpolated, held constant beyond.
fn mcs_sigma_mm(
    table: &RangeTable,
    energy_mev_u: f64,
    r0_g_cm2: f64,
    n_depth: usize,
    depth_step_mm: f64,
) -> Vec<f64> {
    let knots: Vec<(f64, f64)> = (0..)
        .map(|k| f64::from(k) * 0.1)
        .take_while(|z| *z < 0.99 * r0_g_cm2)
        .chain(std::iter::once(0.99 * r0_g_cm2))
        .map(|z| {
            let s = if z <= 0.0 {
                0.0
            } else {
                pencil_beam_spread(table, energy_mev_u, z, WATER_RADIATION_LENGTH_G_CM2)
                    .map(|(_, s)| s)
                    .unwrap_or(0.0)
            };
            (z * 10.0, s * 10.0)
        })
        .collect();
    (0..n_depth)
        .map(|i| {
            let z = i as f64 * depth_step_mm;
            let k = knots.partition_point(|(kz, _)| *kz <= z);
            if k == 0 {
                knots[0].1
            } else if k >= knots.len() {
                knots[knots.len() - 1].1
            } else {
                let ((z0, s0), (z1, s1)) = (knots[k - 1], knots[k]);
                s0 + (s1 - s0) * (z - z0) / (z1 - z0)
            }
        })
        .collect()
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
