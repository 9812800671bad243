//! Radiobiology: linear–quadratic BED and EQD2, proton RBE models.

/// Biologically effective dose (Gy) of `fractions` fractions of `dose_per_fraction_gy`:
/// BED = n·d·(1 + d/(α/β)).
pub fn bed_gy(fractions: f64, dose_per_fraction_gy: f64, alpha_beta_gy: f64) -> f64 {
    fractions * dose_per_fraction_gy * (1.0 + dose_per_fraction_gy / alpha_beta_gy)
}

/// Equivalent dose in 2 Gy fractions (Gy): EQD2 = BED / (1 + 2/(α/β)).
pub fn eqd2_gy(fractions: f64, dose_per_fraction_gy: f64, alpha_beta_gy: f64) -> f64 {
    bed_gy(fractions, dose_per_fraction_gy, alpha_beta_gy) / (1.0 + 2.0 / alpha_beta_gy)
}

/// A proton RBE model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ProtonRbe {
    /// The clinical constant 1.1.
    Constant,
    /// McNamara, Schuemann, Paganetti, Phys Med Biol 60:8399 (2015).
    McNamara,
    /// Wedenberg, Lind, Hårdemark, Acta Oncol 52:580 (2013).
    Wedenberg,
}

impl ProtonRbe {
    /// RBE at physical dose per fraction `dose_gy` (Gy), dose-averaged LET
    /// `letd_kev_um` (keV/µm) and photon (α/β)ₓ `alpha_beta_gy` (Gy), from
    /// RBE(D) = [√((α/β)² + 4D(α/β)·RBEmax + 4D²·RBEmin²) − α/β] / (2D);
    /// at D = 0 the limit RBEmax.
    pub fn rbe(self, dose_gy: f64, letd_kev_um: f64, alpha_beta_gy: f64) -> f64 {
        let (max, min) = match self {
            Self::Constant => return 1.1,
            Self::McNamara => (
                0.999_064 + 0.356_05 * letd_kev_um / alpha_beta_gy,
                1.1012 - 0.003_870_3 * alpha_beta_gy.sqrt() * letd_kev_um,
            ),
            Self::Wedenberg => (1.0 + 0.434 * letd_kev_um / alpha_beta_gy, 1.0),
        };
        if dose_gy <= 0.0 {
            return max;
        }
        let ab = alpha_beta_gy;
        ((ab * ab + 4.0 * dose_gy * ab * max + 4.0 * dose_gy * dose_gy * min * min).sqrt() - ab)
            / (2.0 * dose_gy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 50 Gy in 5 fractions with α/β = 10 Gy: BED₁₀ = 100 Gy exactly
    /// (shared/reference/README.md); EQD2 = 100/1.2 Gy.
    #[test]
    fn sbrt_liver_bed() {
        assert_eq!(bed_gy(5.0, 10.0, 10.0), 100.0);
        assert!((eqd2_gy(5.0, 10.0, 10.0) - 100.0 / 1.2).abs() < 1e-12);
        // 2 Gy fractions are their own EQD2.
        assert!((eqd2_gy(30.0, 2.0, 3.0) - 60.0).abs() < 1e-12);
    }

    /// McNamara at D = 2 Gy, LETd = 5 keV/µm, (α/β)ₓ = 2 Gy, by hand:
    /// RBEmax = 0.999064 + 0.35605·2.5 = 1.889189, RBEmin = 1.1012 − 0.0038703·√2·5 = 1.073833,
    /// RBE = [√(4 + 16·1.889189 + 16·1.153117) − 2]/4 = [√52.6771 − 2]/4 = 1.314471.
    #[test]
    fn mcnamara_point() {
        let r = ProtonRbe::McNamara.rbe(2.0, 5.0, 2.0);
        assert!((r - 1.314_471).abs() < 2e-6, "{r}");
    }

    /// Wedenberg at D = 2 Gy, LETd = 5 keV/µm, (α/β)ₓ = 2 Gy, by hand:
    /// RBEmax = 1 + 0.434·2.5 = 2.085, RBE = [√(4 + 16·2.085 + 16) − 2]/4 = [√53.36 − 2]/4 = 1.326198.
    #[test]
    fn wedenberg_point_and_limits() {
        let r = ProtonRbe::Wedenberg.rbe(2.0, 5.0, 2.0);
        assert!((r - 1.326_198).abs() < 2e-6, "{r}");
        assert_eq!(ProtonRbe::Constant.rbe(2.0, 20.0, 2.0), 1.1);
        // High dose tends to RBEmin, zero dose to RBEmax.
        assert!((ProtonRbe::Wedenberg.rbe(1e6, 5.0, 2.0) - 1.0).abs() < 1e-3);
        assert!((ProtonRbe::Wedenberg.rbe(0.0, 5.0, 2.0) - 2.085).abs() < 1e-12);
    }
}
