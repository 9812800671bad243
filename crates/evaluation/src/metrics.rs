//! Dose metrics of a structure, target indices and organ constraints.

use crate::dvh::Dvh;
use ferrodose_physics::radiobiology::{bed_gy, eqd2_gy};
use serde::Serialize;

/// Volume receiving at least a dose level.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VolumeAtDose {
    pub dose_gy: f64,
    pub pct: f64,
    pub cc: f64,
}

/// The dose metrics of one structure (Gy, or Gy(RBE) for RBE-weighted doses).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StructureMetrics {
    pub name: String,
    pub volume_cc: f64,
    pub min_gy: f64,
    pub mean_gy: f64,
    /// D0.03cc, the near-maximum dose.
    pub max_gy: f64,
    pub d2_gy: f64,
    pub d50_gy: f64,
    pub d95_gy: f64,
    pub d98_gy: f64,
    /// V5 … V50 in 5 Gy steps.
    pub v: Vec<VolumeAtDose>,
    /// α/β (Gy) used for BED and EQD2.
    pub alpha_beta_gy: f64,
    /// Mean over voxels of BED = n·d·(1 + d/(α/β)), d = voxel dose / n.
    pub mean_bed_gy: f64,
    /// Mean over voxels of EQD2 = BED/(1 + 2/(α/β)).
    pub mean_eqd2_gy: f64,
}

impl StructureMetrics {
    /// Metrics of `dvh` for a treatment of `fractions` fractions.
    pub fn new(name: &str, dvh: &Dvh, alpha_beta_gy: f64, fractions: u32) -> Self {
        let n = f64::from(fractions.max(1));
        Self {
            name: name.to_owned(),
            volume_cc: dvh.volume_cc(),
            min_gy: dvh.min_gy(),
            mean_gy: dvh.mean_gy(),
            max_gy: dvh.dose_to_cc(0.03),
            d2_gy: dvh.dose_to_pct(2.0),
            d50_gy: dvh.dose_to_pct(50.0),
            d95_gy: dvh.dose_to_pct(95.0),
            d98_gy: dvh.dose_to_pct(98.0),
            v: (1..=10)
                .map(|k| {
                    let d = 5.0 * f64::from(k);
                    VolumeAtDose {
                        dose_gy: d,
                        pct: dvh.pct_at_least(d),
                        cc: dvh.cc_at_least(d),
                    }
                })
                .collect(),
            alpha_beta_gy,
            mean_bed_gy: dvh.mean_of(|d| bed_gy(n, d / n, alpha_beta_gy)),
            mean_eqd2_gy: dvh.mean_of(|d| eqd2_gy(n, d / n, alpha_beta_gy)),
        }
    }
}

/// Indices of a target against its prescription.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TargetMetrics {
    pub prescription_gy: f64,
    /// % of the target receiving at least the prescription.
    pub coverage_pct: f64,
    /// Paddick conformity index TV_PIV² / (TV · PIV) (Paddick, J Neurosurg
    /// 93 suppl 3:219, 2000): 1 for a perfect match.
    pub paddick_ci: f64,
    /// Homogeneity index (D2 − D98)/D50 (ICRU Report 83): 0 for a uniform dose.
    pub homogeneity_index: f64,
    /// Gradient index PIV(50 %)/PIV(100 %) (Paddick and Lippitz, J Neurosurg
    /// 105 suppl:194, 2006): volume of half the prescription over that of the
    /// prescription, smaller is steeper.
    pub gradient_index: f64,
}

impl TargetMetrics {
    /// Indices of `target` with prescription `rx_gy`; `body` holds every
    /// voxel where dose counts (the prescription isodose volumes).
    pub fn new(target: &Dvh, body: &Dvh, rx_gy: f64) -> Self {
        let tv = target.volume_cc();
        let tv_piv = target.cc_at_least(rx_gy);
        let piv = body.cc_at_least(rx_gy);
        let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        Self {
            prescription_gy: rx_gy,
            coverage_pct: target.pct_at_least(rx_gy),
            paddick_ci: ratio(tv_piv * tv_piv, tv * piv),
            homogeneity_index: ratio(
                target.dose_to_pct(2.0) - target.dose_to_pct(98.0),
                target.dose_to_pct(50.0),
            ),
            gradient_index: ratio(body.cc_at_least(0.5 * rx_gy), piv),
        }
    }
}

/// What a constraint limits.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Limit {
    /// V_dose below `max_pct` % of the structure.
    VolumePctBelow { dose_gy: f64, max_pct: f64 },
    /// At least `min_cc` of the structure below `dose_gy`.
    CcSparedBelow { dose_gy: f64, min_cc: f64 },
    /// Mean dose below `max_gy`.
    MeanBelow { max_gy: f64 },
}

/// A dose constraint on a named structure, with its source.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Constraint {
    pub structure: String,
    pub limit: Limit,
    pub source: String,
}

/// A constraint evaluated on a DVH.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConstraintResult {
    pub constraint: Constraint,
    /// Human-readable form, for example "V20Gy < 20 %".
    pub text: String,
    pub value: f64,
    pub pass: bool,
}

impl Constraint {
    pub fn evaluate(&self, dvh: &Dvh) -> ConstraintResult {
        let (text, value, pass) = match self.limit {
            Limit::VolumePctBelow { dose_gy, max_pct } => {
                let v = dvh.pct_at_least(dose_gy);
                (format!("V{dose_gy}Gy < {max_pct} %"), v, v < max_pct)
            }
            Limit::CcSparedBelow { dose_gy, min_cc } => {
                let v = dvh.cc_below(dose_gy);
                (format!("≥ {min_cc} cc below {dose_gy} Gy"), v, v >= min_cc)
            }
            Limit::MeanBelow { max_gy } => {
                let v = dvh.mean_gy();
                (format!("mean < {max_gy} Gy"), v, v < max_gy)
            }
        };
        ConstraintResult {
            constraint: self.clone(),
            text,
            value,
            pass,
        }
    }
}

/// Normal-liver constraints for SBRT of hepatocellular carcinoma in 3–5
/// fractions on `structure` (liver − GTV): V30 < 10 %, V20 < 20 %, at least
/// 700 cc below 15 Gy (shared/reference/README.md, "Liver planning").
pub fn liver_constraints(structure: &str) -> Vec<Constraint> {
    let source = "HCC SBRT practice, shared/reference/README.md".to_owned();
    let c = |limit| Constraint {
        structure: structure.to_owned(),
        limit,
        source: source.clone(),
    };
    vec![
        c(Limit::VolumePctBelow {
            dose_gy: 30.0,
            max_pct: 10.0,
        }),
        c(Limit::VolumePctBelow {
            dose_gy: 20.0,
            max_pct: 20.0,
        }),
        c(Limit::CcSparedBelow {
            dose_gy: 15.0,
            min_cc: 700.0,
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodose_grid::{Grid, Mask, Point3, Volume};

    /// A 10 × 10 × 10 grid of 1 cc voxels: a 4 × 4 × 4 target at 50 Gy inside a
    /// 6 × 6 × 6 shell at 50 Gy, 25 Gy beyond it.
    fn case() -> (Dvh, Dvh) {
        let grid = Grid::axial([10; 3], [10.0; 3], Point3::origin()).unwrap();
        let inside =
            |n: usize, lo: usize, hi: usize| grid.ijk(n).iter().all(|c| (lo..hi).contains(c));
        let dose = Volume::from_vec(
            grid.clone(),
            (0..grid.len())
                .map(|n| if inside(n, 2, 8) { 50.0 } else { 25.0 })
                .collect(),
        );
        let target = Mask::from_vec(
            grid.clone(),
            (0..grid.len()).map(|n| inside(n, 3, 7)).collect(),
        );
        let body = Mask::from_vec(grid.clone(), vec![true; grid.len()]);
        (Dvh::new(&dose, &target), Dvh::new(&dose, &body))
    }

    /// By hand: TV = 64 cc, all covered, PIV = 216 cc ⇒ CI = 64²/(64·216) = 0.296;
    /// uniform target ⇒ HI = 0; PIV(25 Gy) = 1000 cc ⇒ GI = 1000/216.
    #[test]
    fn target_indices_by_hand() {
        let (target, body) = case();
        let t = TargetMetrics::new(&target, &body, 50.0);
        assert_eq!(t.coverage_pct, 100.0);
        assert!((t.paddick_ci - 64.0 / 216.0).abs() < 1e-12);
        assert_eq!(t.homogeneity_index, 0.0);
        assert!((t.gradient_index - 1000.0 / 216.0).abs() < 1e-12);
    }

    /// 50 Gy in 5 fractions, α/β = 10 Gy: BED 100 Gy, EQD2 83.3 Gy in every voxel.
    #[test]
    fn structure_metrics_and_constraints() {
        let (target, body) = case();
        let m = StructureMetrics::new("PTV", &target, 10.0, 5);
        assert_eq!((m.volume_cc, m.d95_gy, m.max_gy), (64.0, 50.0, 50.0));
        assert!((m.mean_bed_gy - 100.0).abs() < 1e-9);
        assert!((m.mean_eqd2_gy - 100.0 / 1.2).abs() < 1e-9);
        assert_eq!(m.v[3].dose_gy, 20.0);
        assert_eq!(m.v[3].pct, 100.0);
        let r: Vec<ConstraintResult> = liver_constraints("body")
            .iter()
            .map(|c| c.evaluate(&body))
            .collect();
        // V30 = 21.6 % fails < 10 %; V20 = 100 % fails; 0 cc below 15 Gy fails.
        assert!((r[0].value - 21.6).abs() < 1e-9 && !r[0].pass);
        assert_eq!(r[0].text, "V30Gy < 10 %");
        assert!(!r[1].pass && !r[2].pass);
    }
}
