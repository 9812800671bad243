//! Cumulative dose–volume histograms, exact on the voxels of a structure:
//! every voxel whose centre lies in the structure counts with its full volume.

use ferrodose_grid::{Mask, Volume};

/// The doses of a structure's voxels, sorted, with the volume of one voxel.
#[derive(Debug, Clone)]
pub struct Dvh {
    /// Voxel doses (Gy), ascending.
    doses_gy: Vec<f32>,
    voxel_cc: f64,
}

impl Dvh {
    /// The DVH of `dose` over `mask` (same grid).
    pub fn new(dose: &Volume<f32>, mask: &Mask) -> Self {
        assert_eq!(dose.grid(), mask.grid(), "dose and structure share a grid");
        let mut doses_gy: Vec<f32> = dose
            .data()
            .iter()
            .zip(mask.data())
            .filter(|(_, m)| **m)
            .map(|(d, _)| *d)
            .collect();
        doses_gy.sort_by(f32::total_cmp);
        Self {
            doses_gy,
            voxel_cc: mask.grid().voxel_volume_mm3() / 1000.0,
        }
    }

    /// Structure volume (cc).
    pub fn volume_cc(&self) -> f64 {
        self.doses_gy.len() as f64 * self.voxel_cc
    }

    pub fn is_empty(&self) -> bool {
        self.doses_gy.is_empty()
    }

    /// Voxels receiving at least `dose_gy`.
    fn count_at_least(&self, dose_gy: f64) -> usize {
        self.doses_gy.len() - self.doses_gy.partition_point(|d| f64::from(*d) < dose_gy)
    }

    /// Volume (cc) receiving at least `dose_gy`.
    pub fn cc_at_least(&self, dose_gy: f64) -> f64 {
        self.count_at_least(dose_gy) as f64 * self.voxel_cc
    }

    /// Volume (% of the structure) receiving at least `dose_gy`.
    pub fn pct_at_least(&self, dose_gy: f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        100.0 * self.count_at_least(dose_gy) as f64 / self.doses_gy.len() as f64
    }

    /// Volume (cc) receiving less than `dose_gy`.
    pub fn cc_below(&self, dose_gy: f64) -> f64 {
        self.volume_cc() - self.cc_at_least(dose_gy)
    }

    /// D_cc: the lowest dose (Gy) of the hottest `cc` of the structure (the
    /// whole structure's minimum when `cc` exceeds its volume).
    pub fn dose_to_cc(&self, cc: f64) -> f64 {
        let n = self.doses_gy.len();
        if n == 0 {
            return 0.0;
        }
        let hottest = ((cc / self.voxel_cc).ceil() as usize).clamp(1, n);
        f64::from(self.doses_gy[n - hottest])
    }

    /// D_x%: the lowest dose (Gy) of the hottest `pct` % of the structure.
    pub fn dose_to_pct(&self, pct: f64) -> f64 {
        self.dose_to_cc(pct / 100.0 * self.volume_cc())
    }

    pub fn min_gy(&self) -> f64 {
        self.doses_gy.first().map_or(0.0, |d| f64::from(*d))
    }

    pub fn max_gy(&self) -> f64 {
        self.doses_gy.last().map_or(0.0, |d| f64::from(*d))
    }

    pub fn mean_gy(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.doses_gy.iter().map(|d| f64::from(*d)).sum::<f64>() / self.doses_gy.len() as f64
    }

    /// Σ f(dose) over the voxels divided by their number: the mean of any
    /// per-voxel function of dose (for example BED).
    pub fn mean_of(&self, f: impl Fn(f64) -> f64) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.doses_gy.iter().map(|d| f(f64::from(*d))).sum::<f64>() / self.doses_gy.len() as f64
    }

    /// Cumulative curve on `step_gy` bins from 0 to the maximum:
    /// (dose, % of volume, cc) receiving at least that dose.
    pub fn curve(&self, step_gy: f64) -> Vec<(f64, f64, f64)> {
        let bins = (self.max_gy() / step_gy).floor() as usize + 1;
        (0..=bins)
            .map(|i| {
                let d = i as f64 * step_gy;
                (d, self.pct_at_least(d), self.cc_at_least(d))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodose_grid::{Grid, Point3};

    /// Ten 2 × 5 × 10 mm voxels (0.1 cc each) with doses 1..10 Gy, one outside.
    fn ramp() -> Dvh {
        let grid = Grid::axial([11, 1, 1], [2.0, 5.0, 10.0], Point3::origin()).unwrap();
        let dose = Volume::from_vec(grid.clone(), (1..=11).map(|d| d as f32).collect());
        let mask = Mask::from_vec(grid, (0..11).map(|i| i < 10).collect());
        Dvh::new(&dose, &mask)
    }

    #[test]
    fn volumes_and_doses_of_a_ramp() {
        let h = ramp();
        assert!((h.volume_cc() - 1.0).abs() < 1e-12);
        assert_eq!(h.pct_at_least(0.0), 100.0);
        assert_eq!(h.pct_at_least(5.0), 60.0);
        assert_eq!(h.pct_at_least(5.5), 50.0);
        assert_eq!(h.pct_at_least(11.0), 0.0);
        assert!((h.cc_below(3.0) - 0.2).abs() < 1e-12);
        // The hottest 20 % (2 voxels: 9 and 10 Gy) get at least 9 Gy.
        assert_eq!(h.dose_to_pct(20.0), 9.0);
        assert_eq!(h.dose_to_pct(100.0), 1.0);
        // D0.03cc of 0.1 cc voxels is the maximum.
        assert_eq!(h.dose_to_cc(0.03), 10.0);
        assert_eq!((h.min_gy(), h.max_gy(), h.mean_gy()), (1.0, 10.0, 5.5));
        let c = h.curve(2.0);
        assert_eq!(c.len(), 7);
        assert_eq!((c[3].0, c[3].1), (6.0, 50.0));
        assert!((c[3].2 - 0.5).abs() < 1e-12);
    }
}
