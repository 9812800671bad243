//! Depth tables per energy for the pencil-beam kernel, generated from
//! ferrodose's own physics (`ferrodose-physics`): the integrated depth–dose
//! curve (Bortfeld's model evaluated numerically) and the σ of multiple Coulomb
//! scattering in water (generalised Highland with Fermi–Eyges moments), both
//! on one WED grid in mm.

use ferrodose_physics::depth_dose::DepthDose;
use ferrodose_physics::scattering::{pencil_beam_spread, WATER_RADIATION_LENGTH_G_CM2};
use ferrodose_physics::{Ion, Material, PhysicsError, RangeTable};
use rayon::prelude::*;

/// Depth tables of an ion for a set of energies, rows of `n_depth` samples.
#[derive(Debug, Clone)]
pub struct IonBaseData {
    pub ion: Ion,
    /// Energies per nucleon (MeV/u), one table row each.
    pub energies_mev_u: Vec<f64>,
    /// WED step of the tables (mm).
    pub depth_step_mm: f64,
    /// Samples per row.
    pub n_depth: usize,
    /// IDD (MeV·cm²/g per particle) rows.
    pub idd: Vec<f32>,
    /// σ of multiple Coulomb scattering (mm) rows.
    pub sigma_mcs_mm: Vec<f32>,
    /// CSDA range of each energy (mm of water).
    pub csda_mm: Vec<f64>,
    /// Distal 80 % depth of each IDD (mm of water).
    pub r80_mm: Vec<f64>,
}

impl IonBaseData {
    /// Tables for protons in water (I = 78 eV, ICRU 90) at `energies_mev`, with
    /// relative energy spread `energy_spread` (σ_E/E) and WED step `depth_step_mm`.
    pub fn protons(
        energies_mev: &[f64],
        energy_spread: f64,
        depth_step_mm: f64,
    ) -> Result<Self, PhysicsError> {
        let ion = Ion::proton();
        let max_e = energies_mev.iter().copied().fold(0.0, f64::max);
        let table = RangeTable::new(
            ion,
            &Material::water(78.0),
            (max_e * 1.05).clamp(10.0, 1000.0),
        )?;
        let step_g = depth_step_mm / 10.0;
        let curves: Vec<DepthDose> = energies_mev
            .par_iter()
            .map(|&e| DepthDose::proton(&table, e, energy_spread, step_g))
            .collect::<Result<_, _>>()?;
        let n_depth = curves
            .iter()
            .map(|c| c.depth_g_cm2.len())
            .max()
            .unwrap_or(2)
            .max(2)
            + 1;
        let mut idd = vec![0.0f32; n_depth * curves.len()];
        let mut sigma = vec![0.0f32; n_depth * curves.len()];
        for (row, (curve, &e)) in curves.iter().zip(energies_mev).enumerate() {
            for (i, v) in curve.idd_mev_cm2_g.iter().enumerate() {
                idd[row * n_depth + i] = *v as f32;
            }
            // σ_MCS on a 1 mm grid up to 99 % of the range, held constant beyond.
            let r0 = curve.csda_g_cm2;
            let knots: Vec<(f64, f64)> = (0..)
                .map(|k| f64::from(k) * 0.1)
                .take_while(|z| *z < 0.99 * r0)
                .chain(std::iter::once(0.99 * r0))
                .map(|z| {
                    let s = if z <= 0.0 {
                        0.0
                    } else {
                        pencil_beam_spread(&table, e, z, WATER_RADIATION_LENGTH_G_CM2)
                            .map(|(_, s)| s)
                            .unwrap_or(0.0)
                    };
                    (z * 10.0, s * 10.0)
                })
                .collect();
            for i in 0..n_depth {
                let z = i as f64 * depth_step_mm;
                let k = knots.partition_point(|(kz, _)| *kz <= z);
                let s = if k == 0 {
                    knots[0].1
                } else if k >= knots.len() {
                    knots[knots.len() - 1].1
                } else {
                    let ((z0, s0), (z1, s1)) = (knots[k - 1], knots[k]);
                    s0 + (s1 - s0) * (z - z0) / (z1 - z0)
                };
                sigma[row * n_depth + i] = s as f32;
            }
        }
        Ok(Self {
            ion,
            energies_mev_u: energies_mev.to_vec(),
            depth_step_mm,
            n_depth,
            idd,
            sigma_mcs_mm: sigma,
            csda_mm: curves.iter().map(|c| c.csda_g_cm2 * 10.0).collect(),
            r80_mm: curves.iter().map(|c| c.distal_depth(0.8) * 10.0).collect(),
        })
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
