//! CT calibration: HU → mass density, elemental composition, relative electron
//! density and relative stopping power (RSP), after Schneider, Bortfeld and
//! Schlegel, "Correlation between CT numbers and tissue parameters needed for
//! Monte Carlo simulations of clinical dose distributions", Phys Med Biol
//! 45:459 (2000): the stoichiometric density fit in seven HU sections and
//! 24 tissue bins with their elemental weights (their table 6; transcribed
//! from the TOPAS parameter file `HUtoMaterialSchneider.txt`, which carries
//! the same sections and weights), plus titanium for implants.
//!
//! RSP = (ρ_e / ρ_e,water)·L(I_tissue)/L(I_water) with the Bethe stopping
//! number L = ln(2m_ec²β²γ²/I) − β² at 100 MeV. Tissue I from Bragg additivity,
//! ln I = Σ wᵢ(Zᵢ/Aᵢ) ln Iᵢ / Σ wᵢ(Zᵢ/Aᵢ), with the condensed-phase values of
//! ICRU Report 37 for H, C, N, O (19.2, 81, 82, 106 eV) and elemental values for
//! the others; water from the same rule (75.3 eV), so that water-like tissue of
//! unit electron density has RSP 1.
//!
//! Users may replace the curves with their own two-column tables
//! ([`CalibrationTable`]).

use crate::constants::{ELECTRON_MASS_MEV, PROTON_MASS_MEV};

/// Elements of the tissue bins: symbol, Z, atomic mass (g/mol), I (eV).
const ELEMENTS: [(&str, u32, f64, f64); 13] = [
    ("H", 1, 1.008, 19.2),
    ("C", 6, 12.011, 81.0),
    ("N", 7, 14.007, 82.0),
    ("O", 8, 15.999, 106.0),
    ("Mg", 12, 24.305, 156.0),
    ("P", 15, 30.974, 173.0),
    ("S", 16, 32.06, 180.0),
    ("Cl", 17, 35.45, 174.0),
    ("Ar", 18, 39.948, 188.0),
    ("Ca", 20, 40.078, 191.0),
    ("Na", 11, 22.990, 149.0),
    ("K", 19, 39.098, 190.0),
    ("Ti", 22, 47.867, 233.0),
];

/// Lower HU bound of each tissue bin; the last bin ends at [`HU_MAX`].
const BIN_LOWER_HU: [i32; 25] = [
    -1000, -950, -120, -83, -53, -23, 7, 18, 80, 120, 200, 300, 400, 500, 600, 700, 800, 900, 1000,
    1100, 1200, 1300, 1400, 1500, 2995,
];

/// Mass fractions per bin in the order of [`ELEMENTS`] (Schneider 2000, table 6).
const BIN_WEIGHTS: [[f64; 13]; 25] = [
    [
        0.0, 0.0, 0.755, 0.232, 0.0, 0.0, 0.0, 0.0, 0.013, 0.0, 0.0, 0.0, 0.0,
    ],
    [
        0.103, 0.105, 0.031, 0.749, 0.0, 0.002, 0.003, 0.003, 0.0, 0.0, 0.002, 0.002, 0.0,
    ],
    [
        0.116, 0.681, 0.002, 0.198, 0.0, 0.0, 0.001, 0.001, 0.0, 0.0, 0.001, 0.0, 0.0,
    ],
    [
        0.113, 0.567, 0.009, 0.308, 0.0, 0.0, 0.001, 0.001, 0.0, 0.0, 0.001, 0.0, 0.0,
    ],
    [
        0.110, 0.458, 0.015, 0.411, 0.0, 0.001, 0.002, 0.002, 0.0, 0.0, 0.001, 0.0, 0.0,
    ],
    [
        0.108, 0.356, 0.022, 0.509, 0.0, 0.001, 0.002, 0.002, 0.0, 0.0, 0.0, 0.0, 0.0,
    ],
    [
        0.106, 0.284, 0.026, 0.578, 0.0, 0.001, 0.002, 0.002, 0.0, 0.0, 0.0, 0.001, 0.0,
    ],
    [
        0.103, 0.134, 0.030, 0.723, 0.0, 0.002, 0.002, 0.002, 0.0, 0.0, 0.002, 0.002, 0.0,
    ],
    [
        0.094, 0.207, 0.062, 0.622, 0.0, 0.0, 0.006, 0.003, 0.0, 0.0, 0.006, 0.0, 0.0,
    ],
    [
        0.095, 0.455, 0.025, 0.355, 0.0, 0.021, 0.001, 0.001, 0.0, 0.045, 0.001, 0.001, 0.0,
    ],
    [
        0.089, 0.423, 0.027, 0.363, 0.0, 0.030, 0.001, 0.001, 0.0, 0.064, 0.001, 0.001, 0.0,
    ],
    [
        0.082, 0.391, 0.029, 0.372, 0.0, 0.039, 0.001, 0.001, 0.0, 0.083, 0.001, 0.001, 0.0,
    ],
    [
        0.076, 0.361, 0.030, 0.380, 0.001, 0.047, 0.002, 0.001, 0.0, 0.101, 0.001, 0.0, 0.0,
    ],
    [
        0.071, 0.335, 0.032, 0.387, 0.001, 0.054, 0.002, 0.0, 0.0, 0.117, 0.001, 0.0, 0.0,
    ],
    [
        0.066, 0.310, 0.033, 0.394, 0.001, 0.061, 0.002, 0.0, 0.0, 0.132, 0.001, 0.0, 0.0,
    ],
    [
        0.061, 0.287, 0.035, 0.400, 0.001, 0.067, 0.002, 0.0, 0.0, 0.146, 0.001, 0.0, 0.0,
    ],
    [
        0.056, 0.265, 0.036, 0.405, 0.002, 0.073, 0.003, 0.0, 0.0, 0.159, 0.001, 0.0, 0.0,
    ],
    [
        0.052, 0.246, 0.037, 0.411, 0.002, 0.078, 0.003, 0.0, 0.0, 0.170, 0.001, 0.0, 0.0,
    ],
    [
        0.049, 0.227, 0.038, 0.416, 0.002, 0.083, 0.003, 0.0, 0.0, 0.181, 0.001, 0.0, 0.0,
    ],
    [
        0.045, 0.210, 0.039, 0.420, 0.002, 0.088, 0.003, 0.0, 0.0, 0.192, 0.001, 0.0, 0.0,
    ],
    [
        0.042, 0.194, 0.040, 0.425, 0.002, 0.092, 0.003, 0.0, 0.0, 0.201, 0.001, 0.0, 0.0,
    ],
    [
        0.039, 0.179, 0.041, 0.429, 0.002, 0.096, 0.003, 0.0, 0.0, 0.210, 0.001, 0.0, 0.0,
    ],
    [
        0.036, 0.165, 0.042, 0.432, 0.002, 0.100, 0.003, 0.0, 0.0, 0.219, 0.001, 0.0, 0.0,
    ],
    [
        0.034, 0.155, 0.042, 0.435, 0.002, 0.103, 0.003, 0.0, 0.0, 0.225, 0.001, 0.0, 0.0,
    ],
    [
        0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0,
    ],
];

/// Density sections (Schneider 2000): from HU `lower`, ρ = offset + factor·(HU + factor_offset) g/cm³.
const DENSITY_SECTIONS: [(i32, f64, f64, f64); 7] = [
    (-1000, 0.00121, 0.001_029_700_665_188, 1000.0),
    (-98, 1.018, 0.000_893, 0.0),
    (15, 1.03, 0.0, 0.0),
    (23, 1.003, 0.001_169, 0.0),
    (101, 1.017, 0.000_592, 0.0),
    (2001, 2.201, 0.0005, -2000.0),
    (2995, 4.54, 0.0, 0.0),
];

/// Lowest and highest HU of the calibration; CT values beyond are clamped.
pub const HU_MIN: f64 = -1000.0;
/// See [`HU_MIN`].
pub const HU_MAX: f64 = 2995.0;

/// Reference energy of the RSP (MeV); RSP varies by under 1 % over 70–230 MeV.
pub const RSP_REFERENCE_MEV: f64 = 100.0;

/// Mass density (g/cm³) of a CT number by Schneider's fit; HU clamped to [−1000, 2995].
pub fn density_g_cm3(hu: f64) -> f64 {
    let h = hu.clamp(HU_MIN, HU_MAX);
    let (_, offset, factor, shift) = DENSITY_SECTIONS
        .iter()
        .rev()
        .find(|(lower, ..)| h >= f64::from(*lower))
        .copied()
        .unwrap_or(DENSITY_SECTIONS[0]);
    offset + factor * (h + shift)
}

/// Index of the tissue bin of a CT number (0 = air … 23 = densest bone, 24 = titanium).
pub fn tissue_bin(hu: f64) -> usize {
    let h = hu.clamp(HU_MIN, HU_MAX);
    BIN_LOWER_HU
        .iter()
        .rposition(|lower| h >= f64::from(*lower))
        .unwrap_or(0)
}

/// Elemental mass fractions of a tissue bin as (symbol, Z, fraction), non-zero only.
pub fn composition(bin: usize) -> Vec<(&'static str, u32, f64)> {
    ELEMENTS
        .iter()
        .zip(BIN_WEIGHTS[bin])
        .filter(|(_, w)| *w > 0.0)
        .map(|((s, z, _, _), w)| (*s, *z, w))
        .collect()
}

/// Σ wᵢ Zᵢ/Aᵢ (mol/g) and the Bragg-additivity mean excitation energy (eV).
fn electrons_and_i(weights: &[f64; 13]) -> (f64, f64) {
    let total: f64 = weights.iter().sum();
    let (mut za, mut ln_i) = (0.0, 0.0);
    for ((_, z, a, i), w) in ELEMENTS.iter().zip(weights) {
        let n = w / total * f64::from(*z) / a;
        za += n;
        ln_i += n * i.ln();
    }
    (za, (ln_i / za).exp())
}

const WATER_WEIGHTS: [f64; 13] = [
    0.111_894, 0.0, 0.0, 0.888_106, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
];

/// Mean excitation energy (eV) of a tissue bin by Bragg additivity.
pub fn mean_excitation_ev(bin: usize) -> f64 {
    electrons_and_i(&BIN_WEIGHTS[bin]).1
}

/// Electron density relative to water.
pub fn relative_electron_density(hu: f64) -> f64 {
    let (za, _) = electrons_and_i(&BIN_WEIGHTS[tissue_bin(hu)]);
    let (za_w, _) = electrons_and_i(&WATER_WEIGHTS);
    density_g_cm3(hu) * za / za_w
}

/// Proton stopping power relative to water at [`RSP_REFERENCE_MEV`].
pub fn relative_stopping_power(hu: f64) -> f64 {
    let gamma = 1.0 + RSP_REFERENCE_MEV / PROTON_MASS_MEV;
    let beta2 = 1.0 - 1.0 / (gamma * gamma);
    let l = |i_ev: f64| (2.0 * ELECTRON_MASS_MEV * 1e6 * beta2 * gamma * gamma / i_ev).ln() - beta2;
    let (_, i_t) = electrons_and_i(&BIN_WEIGHTS[tissue_bin(hu)]);
    let (_, i_w) = electrons_and_i(&WATER_WEIGHTS);
    relative_electron_density(hu) * l(i_t) / l(i_w)
}

/// Knots (HU, value) sampled every `step_hu` from −1000 to 2995 HU, plus both
/// sides of every section and bin boundary, for a piecewise-linear lookup.
pub fn knots(step_hu: f64, f: impl Fn(f64) -> f64) -> Vec<[f32; 2]> {
    let mut hus: Vec<f64> = Vec::new();
    let mut h = HU_MIN;
    while h < HU_MAX {
        hus.push(h);
        h += step_hu;
    }
    hus.push(HU_MAX);
    for b in BIN_LOWER_HU
        .iter()
        .chain(DENSITY_SECTIONS.iter().map(|s| &s.0))
        .filter(|b| f64::from(**b) > HU_MIN)
    {
        hus.push(f64::from(*b) - 0.01);
        hus.push(f64::from(*b));
    }
    hus.sort_by(f64::total_cmp);
    hus.dedup();
    hus.into_iter().map(|h| [h as f32, f(h) as f32]).collect()
}

/// What a user calibration table maps HU to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CalibrationKind {
    /// Mass density, g/cm³.
    Density,
    /// Relative stopping power (water = 1).
    Rsp,
}

/// A user's HU calibration: two columns (HU, value), one pair per line,
/// `#` starts a comment. HU strictly increasing, values finite and ≥ 0.
#[derive(Debug, Clone, PartialEq)]
pub struct CalibrationTable {
    pub kind: CalibrationKind,
    pub points: Vec<(f64, f64)>,
}

impl CalibrationTable {
    /// Parses a table; `source` (a file name) is named in errors with the line.
    pub fn parse(
        text: &str,
        source: &str,
        kind: CalibrationKind,
    ) -> Result<Self, crate::PhysicsError> {
        let err = |line: usize, what: String| {
            crate::PhysicsError::Invalid(format!("{source}:{line}: {what}"))
        };
        let mut points: Vec<(f64, f64)> = Vec::new();
        for (n, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let cols: Vec<&str> = line
                .split(|c: char| c.is_whitespace() || c == ',')
                .filter(|s| !s.is_empty())
                .collect();
            if cols.len() != 2 {
                return Err(err(
                    n + 1,
                    format!("expected two columns (HU and value), found {}", cols.len()),
                ));
            }
            let parse = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
            let (Some(hu), Some(v)) = (parse(cols[0]), parse(cols[1])) else {
                return Err(err(n + 1, format!("'{line}' is not two numbers")));
            };
            if v < 0.0 {
                return Err(err(n + 1, format!("negative value {v} at {hu} HU")));
            }
            if let Some((prev, _)) = points.last() {
                if hu <= *prev {
                    return Err(err(
                        n + 1,
                        format!("HU {hu} does not increase (previous row {prev})"),
                    ));
                }
            }
            points.push((hu, v));
        }
        if points.len() < 2 {
            return Err(crate::PhysicsError::Invalid(format!(
                "{source}: a calibration table needs at least two rows"
            )));
        }
        Ok(Self { kind, points })
    }

    /// The table as piecewise-linear knots (constant beyond its ends).
    pub fn knots(&self) -> Vec<[f32; 2]> {
        self.points
            .iter()
            .map(|(h, v)| [*h as f32, *v as f32])
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bin_weights_sum_to_one() {
        for (b, w) in BIN_WEIGHTS.iter().enumerate() {
            let s: f64 = w.iter().sum();
            assert!((s - 1.0).abs() <= 0.0021, "bin {b}: {s}");
        }
    }

    /// Schneider's fit at section anchors: air 0.00121 g/cm³ at −1000 HU,
    /// 1.018 at 0 HU, and the bone line 1.017 + 0.000592·HU.
    #[test]
    fn density_fit_anchors() {
        assert!((density_g_cm3(-1000.0) - 0.00121).abs() < 1e-9);
        assert!((density_g_cm3(-2000.0) - 0.00121).abs() < 1e-9, "clamped");
        assert!((density_g_cm3(0.0) - 1.018).abs() < 1e-9);
        assert!((density_g_cm3(1000.0) - 1.609).abs() < 1e-9);
        // Continuous where the paper's sections meet.
        for h in [-98.0, 15.0, 23.0, 2001.0] {
            let (a, b) = (density_g_cm3(h - 1e-6), density_g_cm3(h));
            assert!((a - b).abs() < 0.002, "{h}: {a} vs {b}");
        }
    }

    /// Water composition through Bragg additivity gives I ≈ 75 eV (ICRU 49's value).
    #[test]
    fn water_i_from_bragg_additivity() {
        let (za, i) = electrons_and_i(&WATER_WEIGHTS);
        assert!((i - 75.0).abs() < 1.0, "{i}");
        assert!((za - 0.5551).abs() < 1e-3);
    }

    /// Plausibility bounds, not a validation: RSP follows the electron density
    /// for low-Z tissue (inflated lung ≈ 0.26 g/cm³ near −740 HU, adipose just
    /// under 1, muscle just over 1) and is 1.5–1.9 for cortical bone. A comparison
    /// with a published stoichiometric RSP table is still to do (docs/validation.md).
    #[test]
    fn rsp_is_plausible_for_tissues() {
        let r = relative_stopping_power;
        assert!((r(-740.0) - 0.26).abs() < 0.02, "lung {}", r(-740.0));
        assert!((0.93..0.99).contains(&r(-100.0)), "adipose {}", r(-100.0));
        assert!((1.02..1.07).contains(&r(40.0)), "muscle {}", r(40.0));
        assert!((1.55..1.85).contains(&r(1300.0)), "bone {}", r(1300.0));
        assert!(r(-1000.0) < 0.002);
        // Bone bins have higher I than soft tissue; soft tissue close to water.
        assert!(mean_excitation_ev(tissue_bin(1300.0)) > 90.0);
        assert!((mean_excitation_ev(tissue_bin(40.0)) - 75.0).abs() < 3.0);
    }

    #[test]
    fn knots_follow_the_curve_and_increase() {
        let k = knots(10.0, relative_stopping_power);
        assert!(k.windows(2).all(|w| w[1][0] > w[0][0]));
        assert_eq!(k[0][0], -1000.0);
        assert_eq!(k.last().unwrap()[0], 2995.0);
    }

    #[test]
    fn user_tables_are_checked() {
        let ok = CalibrationTable::parse(
            "# HU  RSP\n-1000 0.001\n0 1.0 # water\n\n1500, 1.8\n",
            "rsp.txt",
            CalibrationKind::Rsp,
        )
        .unwrap();
        assert_eq!(ok.points, vec![(-1000.0, 0.001), (0.0, 1.0), (1500.0, 1.8)]);
        let e = |t: &str| {
            CalibrationTable::parse(t, "my.txt", CalibrationKind::Density)
                .unwrap_err()
                .to_string()
        };
        assert!(e("-1000 0\n0 1\n-10 1.1").contains("my.txt:3: HU -10 does not increase"));
        assert!(e("-1000 0\n0 -1").contains("my.txt:2: negative value -1"));
        assert!(e("-1000 0 7").contains("my.txt:1: expected two columns"));
        assert!(e("-1000 abc").contains("not two numbers"));
        assert!(e("0 1").contains("at least two rows"));
    }
}
