//! Bremsstrahlung spectra of clinical photon beams, as histograms of relative
//! photon fluence per energy bin.
//!
//! 6 MV: Mohan, Chui and Lidofsky, Med Phys 12:592 (1985), the Varian 6 MV
//! spectrum calculated by Monte Carlo, as distributed with EGSnrc
//! (`HEN_HOUSE/spectra/egsnrc/mohan6.spectrum`: 24 bins of 0.25 MeV, 0–6 MeV).
//!
//! 10 MV flattening-filter free: the forward-directed (0°) bremsstrahlung of
//! 10 MeV electrons on a thick lead target measured at NRC by Faddegon, Ross
//! and Rogers, Med Phys 17:773 (1990), as distributed with EGSnrc
//! (`HEN_HOUSE/spectra/egsnrc/10mvpbnrcm.spectrum`: 67 bins of 0.05–0.31 MeV
//! from 0.2 to 10.98 MeV, photons per MeV), rebinned here onto 0.25 MeV bins.
//! No flattening filter hardens it: it is the on-axis spectrum of an
//! unflattened beam from a high-Z target (not of any one linac's head).

use crate::PhysicsError;
use rand::Rng;

/// A photon spectrum: equal-width energy bins with relative fluence.
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    /// Name of the beam quality, for reports ("6 MV").
    pub name: String,
    /// Lower edge of the first bin (MeV).
    pub min_mev: f64,
    /// Bin width (MeV).
    pub bin_mev: f64,
    /// Relative photon fluence of each bin, normalised to sum to 1.
    pub fluence: Vec<f64>,
}

/// Mohan et al. (1985) 6 MV: fluence per 0.25 MeV bin, bins from 0–0.25 MeV to 5.75–6 MeV.
const MOHAN_6MV: [f64; 24] = [
    0.004107824,
    0.1295177,
    0.4609022,
    0.4609022,
    0.4435880,
    0.4084962,
    0.4084962,
    0.2496504,
    0.2367691,
    0.1867142,
    0.1382681,
    0.1304545,
    0.1484442,
    0.09496227,
    0.1246583,
    0.09773248,
    0.08891984,
    0.05154921,
    0.04184013,
    0.04803306,
    0.01624749,
    0.02715377,
    0.01199324,
    0.01573713,
];

/// Faddegon et al. (1990) 10 MeV on thick Pb, 0°: upper bin edges (MeV) and
/// photons per MeV; the first bin starts at 0.2 MeV.
const NRC_10MEV_PB_LOWEST_MEV: f64 = 0.2;
const NRC_10MEV_PB: [(f64, f64); 67] = [
    (0.25, 0.1474),
    (0.30, 0.2328),
    (0.35, 0.3272),
    (0.40, 0.3850),
    (0.45, 0.4381),
    (0.50, 0.5022),
    (0.55, 0.5099),
    (0.60, 0.4880),
    (0.66, 0.5170),
    (0.72, 0.4747),
    (0.78, 0.4239),
    (0.85, 0.4334),
    (0.92, 0.4299),
    (0.99, 0.3793),
    (1.07, 0.3686),
    (1.15, 0.3335),
    (1.24, 0.3450),
    (1.32, 0.2974),
    (1.41, 0.2761),
    (1.51, 0.2662),
    (1.61, 0.2533),
    (1.71, 0.2286),
    (1.82, 0.2305),
    (1.93, 0.2088),
    (2.04, 0.1879),
    (2.16, 0.1784),
    (2.28, 0.1531),
    (2.41, 0.1465),
    (2.54, 0.1448),
    (2.67, 0.1338),
    (2.81, 0.1319),
    (2.95, 0.1186),
    (3.10, 0.1115),
    (3.25, 0.09856),
    (3.41, 0.09179),
    (3.57, 0.08528),
    (3.73, 0.08191),
    (3.90, 0.07738),
    (4.08, 0.07596),
    (4.26, 0.07015),
    (4.44, 0.05895),
    (4.63, 0.06186),
    (4.82, 0.05880),
    (5.02, 0.05330),
    (5.22, 0.04443),
    (5.43, 0.04536),
    (5.64, 0.04566),
    (5.86, 0.03862),
    (6.08, 0.03376),
    (6.31, 0.03091),
    (6.54, 0.03058),
    (6.78, 0.02681),
    (7.02, 0.02806),
    (7.27, 0.02357),
    (7.53, 0.02170),
    (7.78, 0.02052),
    (8.05, 0.01764),
    (8.32, 0.01460),
    (8.59, 0.01434),
    (8.87, 0.01230),
    (9.16, 0.008536),
    (9.45, 0.006528),
    (9.74, 0.003445),
    (10.04, 0.001470),
    (10.35, 0.0008790),
    (10.66, 0.0002265),
    (10.98, 0.0003089),
];

/// The photon beam qualities ferrodose has a spectrum and a pencil kernel for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhotonBeam {
    /// 6 MV flattened (Mohan et al. 1985).
    SixMv,
    /// 10 MV flattening-filter free (Faddegon et al. 1990, 10 MeV on Pb, 0°).
    TenMvFff,
}

impl PhotonBeam {
    /// Every beam quality, in the order the names are listed to users.
    pub const ALL: [PhotonBeam; 2] = [PhotonBeam::SixMv, PhotonBeam::TenMvFff];

    /// The name machine files and the CLI use: "6MV", "10MV-FFF".
    pub fn name(self) -> &'static str {
        match self {
            PhotonBeam::SixMv => "6MV",
            PhotonBeam::TenMvFff => "10MV-FFF",
        }
    }

    /// The beam quality called `name` (as [`Self::name`] writes it).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|b| b.name() == name)
    }

    /// Every beam quality's name, for messages: "6MV, 10MV-FFF".
    pub fn known_names() -> String {
        Self::ALL.map(Self::name).join(", ")
    }

    /// The beam quality of nominal energy `mv` (MV), flattening-filter free
    /// or not, as an RT Plan gives them; `None` where ferrodose has none.
    pub fn from_nominal(mv: f64, flattening_filter_free: bool) -> Option<Self> {
        Self::ALL.into_iter().find(|b| {
            (b.nominal_mv() - mv).abs() < 1e-6
                && b.flattening_filter_free() == flattening_filter_free
        })
    }

    /// Position in [`Self::ALL`], for per-beam tables.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Nominal energy (MV), as an RT Plan's Nominal Beam Energy gives it.
    pub fn nominal_mv(self) -> f64 {
        match self {
            PhotonBeam::SixMv => 6.0,
            PhotonBeam::TenMvFff => 10.0,
        }
    }

    /// Whether the beam has no flattening filter (RT Plan Fluence Mode ID "FFF").
    pub fn flattening_filter_free(self) -> bool {
        matches!(self, PhotonBeam::TenMvFff)
    }

    /// The beam's spectrum.
    pub fn spectrum(self) -> Spectrum {
        match self {
            PhotonBeam::SixMv => Spectrum::mohan_6mv(),
            PhotonBeam::TenMvFff => Spectrum::nrc_10mev_pb(),
        }
    }
}

impl Spectrum {
    /// A spectrum of equal-width bins starting at `min_mev`; the fluence is
    /// normalised. Refuses negative or all-zero fluence and bins below 10 keV.
    pub fn new(
        name: &str,
        min_mev: f64,
        bin_mev: f64,
        fluence: &[f64],
    ) -> Result<Self, PhysicsError> {
        let total: f64 = fluence.iter().sum();
        let valid = |x: f64| x.is_finite() && x >= 0.0;
        if !fluence.iter().all(|f| valid(*f))
            || total <= 0.0
            || !valid(bin_mev)
            || bin_mev == 0.0
            || !valid(min_mev)
        {
            return Err(PhysicsError::Invalid(format!(
                "spectrum {name}: bins must have non-negative fluence, not all zero, and a positive width"
            )));
        }
        Ok(Self {
            name: name.into(),
            min_mev,
            bin_mev,
            fluence: fluence.iter().map(|f| f / total).collect(),
        })
    }

    /// The Varian 6 MV spectrum of Mohan et al. (1985).
    pub fn mohan_6mv() -> Self {
        Self::new("6 MV", 0.0, 0.25, &MOHAN_6MV).expect("valid table")
    }

    /// The forward-directed spectrum of 10 MeV electrons on thick Pb
    /// (Faddegon et al. 1990), rebinned onto 0.25 MeV bins from 0 to 11 MeV.
    pub fn nrc_10mev_pb() -> Self {
        let mut lower = NRC_10MEV_PB_LOWEST_MEV;
        let bins: Vec<(f64, f64, f64)> = NRC_10MEV_PB
            .iter()
            .map(|&(upper, per_mev)| {
                let bin = (lower, upper, per_mev);
                lower = upper;
                bin
            })
            .collect();
        Self::rebinned("10 MV FFF", &bins, 0.25).expect("valid table")
    }

    /// A spectrum on bins of `bin_mev` from 0 MeV made from a histogram of
    /// `(lower MeV, upper MeV, photons per MeV)` bins of any widths: each
    /// source bin's photons are shared among the new bins in proportion to
    /// their overlap (uniform within the bin), so the fluence is conserved.
    pub fn rebinned(
        name: &str,
        bins: &[(f64, f64, f64)],
        bin_mev: f64,
    ) -> Result<Self, PhysicsError> {
        let top = bins.iter().fold(0.0_f64, |t, b| t.max(b.1));
        let n = (top / bin_mev).ceil() as usize;
        let mut fluence = vec![0.0; n];
        for &(lo, hi, per_mev) in bins {
            if !(hi > lo && lo >= 0.0) {
                return Err(PhysicsError::Invalid(format!(
                    "spectrum {name}: bin {lo}–{hi} MeV must have a positive width"
                )));
            }
            for (k, f) in fluence.iter_mut().enumerate() {
                let (a, b) = (k as f64 * bin_mev, (k + 1) as f64 * bin_mev);
                let overlap = hi.min(b) - lo.max(a);
                if overlap > 0.0 {
                    *f += per_mev * overlap;
                }
            }
        }
        Self::new(name, 0.0, bin_mev, &fluence)
    }

    /// Centre energy (MeV) of bin `k`.
    pub fn centre_mev(&self, k: usize) -> f64 {
        self.min_mev + (k as f64 + 0.5) * self.bin_mev
    }

    /// Highest energy of the spectrum (MeV).
    pub fn max_mev(&self) -> f64 {
        self.min_mev + self.fluence.len() as f64 * self.bin_mev
    }

    /// Fluence-weighted mean energy (MeV).
    pub fn mean_mev(&self) -> f64 {
        self.fluence
            .iter()
            .enumerate()
            .map(|(k, f)| f * self.centre_mev(k))
            .sum()
    }

    /// Samples a photon energy (MeV): a bin by its fluence, uniform within it,
    /// never below 10 keV.
    pub fn sample<R: Rng>(&self, rng: &mut R) -> f64 {
        let mut u: f64 = rng.random();
        let mut k = 0;
        while k + 1 < self.fluence.len() && u >= self.fluence[k] {
            u -= self.fluence[k];
            k += 1;
        }
        let lo = self.min_mev + k as f64 * self.bin_mev;
        (lo + rng.random::<f64>() * self.bin_mev).max(0.01)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// The 6 MV histogram spans 0–6 MeV with a mean of 1.90 MeV (about a third
    /// of the endpoint, as for thick-target bremsstrahlung); sampling
    /// reproduces the histogram's mean within 1 %.
    #[test]
    fn mohan_6mv_sampling_reproduces_histogram() {
        let s = Spectrum::mohan_6mv();
        let mean = s.mean_mev();
        assert_eq!(s.max_mev(), 6.0);
        assert!((mean - 1.8985).abs() < 1e-3, "{mean}");
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let sampled: f64 = (0..n).map(|_| s.sample(&mut rng)).sum::<f64>() / n as f64;
        assert!((sampled / mean - 1.0).abs() < 0.01, "{sampled} vs {mean}");
        assert!(Spectrum::new("bad", 0.0, 0.25, &[1.0, -1.0]).is_err());
    }

    /// Rebinning the NRC 10 MeV Pb spectrum onto 0.25 MeV bins keeps its
    /// photons and, within 0.5 %, its mean energy (both worked out from the
    /// source bins here); the endpoint is 11 MeV and the beam names
    /// round-trip.
    #[test]
    fn nrc_10mev_rebinning_keeps_the_source_histogram() {
        let mut lower = NRC_10MEV_PB_LOWEST_MEV;
        let (mut photons, mut energy) = (0.0, 0.0);
        for &(upper, per_mev) in &NRC_10MEV_PB {
            photons += per_mev * (upper - lower);
            energy += per_mev * (upper - lower) * 0.5 * (upper + lower);
            lower = upper;
        }
        let source_mean = energy / photons;
        let s = Spectrum::nrc_10mev_pb();
        assert_eq!(s.max_mev(), 11.0);
        assert!(
            (s.mean_mev() / source_mean - 1.0).abs() < 0.005,
            "{} vs {source_mean}",
            s.mean_mev()
        );
        // The first new bin (0–0.25 MeV) holds just the 0.2–0.25 MeV source bin.
        assert!((s.fluence[0] - 0.1474 * 0.05 / photons).abs() < 1e-12);
        for b in PhotonBeam::ALL {
            assert_eq!(PhotonBeam::parse(b.name()), Some(b));
        }
        assert_eq!(PhotonBeam::parse("6MV FFF"), None);
        for (k, b) in PhotonBeam::ALL.into_iter().enumerate() {
            assert_eq!(b.index(), k);
            assert_eq!(
                PhotonBeam::from_nominal(b.nominal_mv(), b.flattening_filter_free()),
                Some(b)
            );
        }
        assert_eq!(PhotonBeam::from_nominal(6.0, true), None);
        assert!(Spectrum::rebinned("bad", &[(1.0, 1.0, 1.0)], 0.25).is_err());
    }
}
