//! Radiobiology: linear–quadratic BED and EQD2, proton RBE models, and the
//! carbon-ion RBE of the microdosimetric kinetic model.

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

/// The modified microdosimetric kinetic model (MKM) in its LET form: a cell
/// line's α grows with the saturation-corrected dose-mean specific energy z*
/// of its sub-nuclear domains, α = α₀ + β·z*, and β is independent of LET
/// (Hawkins, Int J Radiat Biol 69:739, 1996; saturation correction of Kase et
/// al., Radiat Res 166:629, 2006).
/// - z₁D = 0.16 Gy·µm³/keV · L / (π r_d²): specific energy of one track crossing a
///   water cylinder of radius r_d (L in keV/µm; 1 keV/µm³ = 0.1602 Gy);
/// - z₀ = (R_n/r_d)² / √(β(1 + (R_n/r_d)²)): the saturation parameter;
/// - z* = z₀²(1 − exp(−z₁D²/z₀²))/z₁D, which is z₁D at low LET and falls as
///   1/L at very high LET (overkill).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mkm {
    pub alpha0_per_gy: f64,
    pub beta_per_gy2: f64,
    pub domain_radius_um: f64,
    pub nucleus_radius_um: f64,
}

/// Gy per (keV/µm³) in unit-density water: 1.602176634e-16 J / 1e-15 kg.
const GY_PER_KEV_UM3: f64 = 0.160_217_663_4;

impl Mkm {
    /// Human salivary gland (HSG) cells, the NIRS reference line: α₀ = 0.172 Gy⁻¹,
    /// β = 0.0615 Gy⁻², r_d = 0.32 µm, R_n = 3.9 µm (Inaniwa et al., Phys Med
    /// Biol 55:6721, 2010).
    pub fn hsg() -> Self {
        Self {
            alpha0_per_gy: 0.172,
            beta_per_gy2: 0.0615,
            domain_radius_um: 0.32,
            nucleus_radius_um: 3.9,
        }
    }

    /// Saturation-corrected specific energy z* (Gy) for LET `let_kev_um`.
    pub fn saturated_specific_energy_gy(&self, let_kev_um: f64) -> f64 {
        let rd2 = self.domain_radius_um.powi(2);
        let ratio2 = self.nucleus_radius_um.powi(2) / rd2;
        let z0 = ratio2 / (self.beta_per_gy2 * (1.0 + ratio2)).sqrt();
        let z = GY_PER_KEV_UM3 * let_kev_um / (std::f64::consts::PI * rd2);
        if z <= 0.0 {
            return 0.0;
        }
        z0 * z0 * (1.0 - (-(z * z) / (z0 * z0)).exp()) / z
    }

    /// α (Gy⁻¹) of a track-segment beam of LET `let_kev_um`.
    pub fn alpha_per_gy(&self, let_kev_um: f64) -> f64 {
        self.alpha0_per_gy + self.beta_per_gy2 * self.saturated_specific_energy_gy(let_kev_um)
    }
}

/// The NIRS clinical-dose convention for carbon ions: clinical RBE = 1.46 × the
/// RBE of HSG cells at 10 % survival, with α of a mixed field the
/// dose-weighted mean of its components' α (and β the MKM's constant β, so
/// √β mixing is exact) (Kanai et al., Int J Radiat Oncol Biol Phys 44:201,
/// 1999; reformulated with the MKM by Inaniwa et al. 2010). Independent of the
/// dose level: RBE-weighted dose is then linear in the physical dose.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CarbonClinicalRbe {
    pub mkm: Mkm,
    /// LQ parameters of the reference photons for the same cells.
    pub photon_alpha_per_gy: f64,
    pub photon_beta_per_gy2: f64,
    /// Survival level at which the RBE is taken.
    pub survival: f64,
    /// Clinical scaling of the biological RBE.
    pub clinical_factor: f64,
}

impl CarbonClinicalRbe {
    /// HSG cells with 200 kV X-rays α = 0.764 Gy⁻¹, β = 0.0615 Gy⁻² (Inaniwa
    /// 2010), 10 % survival, factor 1.46 (Kanai 1999).
    pub fn nirs() -> Self {
        Self {
            mkm: Mkm::hsg(),
            photon_alpha_per_gy: 0.764,
            photon_beta_per_gy2: 0.0615,
            survival: 0.1,
            clinical_factor: 1.46,
        }
    }

    /// Dose (Gy) that leaves `survival` of cells for LQ parameters α, β.
    fn dose_for_survival(&self, alpha: f64, beta: f64) -> f64 {
        let effect = -self.survival.ln();
        (-alpha + (alpha * alpha + 4.0 * beta * effect).sqrt()) / (2.0 * beta)
    }

    /// Clinical RBE of a field whose dose-mean α is `alpha_per_gy`.
    pub fn rbe(&self, alpha_per_gy: f64) -> f64 {
        let photon = self.dose_for_survival(self.photon_alpha_per_gy, self.photon_beta_per_gy2);
        let ion = self.dose_for_survival(alpha_per_gy, self.mkm.beta_per_gy2);
        self.clinical_factor * photon / ion
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

    /// MKM by hand for HSG at L = 50 keV/µm: z₁D = 0.160218·50/(π·0.1024) = 24.9018 Gy,
    /// (R_n/r_d)² = 148.535, z₀ = 148.535/√(0.0615·149.535) = 48.980 Gy,
    /// z*/Gy = 2399.06·(1 − e^(−0.258476))/24.9018 = 21.944, α = 0.172 + 0.0615·21.944
    /// = 1.52154 Gy⁻¹. Photon D₁₀ = (−0.764 + √(0.583696 + 0.566433))/0.123 = 2.50766 Gy,
    /// ion D₁₀ = (−1.52154 + √(2.31508 + 0.566433))/0.123 = 1.43060 Gy,
    /// clinical RBE = 1.46·2.50766/1.43060 = 2.5592.
    #[test]
    fn mkm_hand_values() {
        let m = Mkm::hsg();
        assert!((m.saturated_specific_energy_gy(50.0) - 21.944).abs() < 0.005);
        assert!((m.alpha_per_gy(50.0) - 1.52154).abs() < 5e-4);
        let r = CarbonClinicalRbe::nirs().rbe(m.alpha_per_gy(50.0));
        assert!((r - 2.5592).abs() < 0.002, "{r}");
    }

    /// z* equals z₁D at low LET and saturates at high LET, so α peaks and then
    /// falls (overkill); the clinical RBE rises from the plateau into the
    /// 2.5–3 band of spread-out peaks (shared/reference/README.md) and beyond.
    #[test]
    fn mkm_saturates() {
        let m = Mkm::hsg();
        let z1 = 0.160_217_663_4 * 1.0 / (std::f64::consts::PI * 0.1024);
        assert!((m.saturated_specific_energy_gy(1.0) / z1 - 1.0).abs() < 1e-3);
        let alphas: Vec<f64> = [10.0, 50.0, 100.0, 200.0, 500.0, 1000.0]
            .iter()
            .map(|l| m.alpha_per_gy(*l))
            .collect();
        assert!(alphas[0] < alphas[1] && alphas[1] < alphas[2]);
        assert!(alphas[5] < alphas[3], "{alphas:?}");
        let rbe = CarbonClinicalRbe::nirs();
        assert!((2.5..3.0).contains(&rbe.rbe(m.alpha_per_gy(50.0))));
        assert!(rbe.rbe(m.alpha_per_gy(13.0)) < 2.0);
    }
}
