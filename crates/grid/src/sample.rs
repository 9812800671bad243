//! Trilinear sampling and resampling of scalar volumes, nearest-neighbour for masks.

use crate::{Grid, Mask, Volume};
use nalgebra::Point3;

impl Grid {
    /// The eight voxels (linear indices) and trilinear weights (summing to 1)
    /// that interpolate a value at patient point `p` (mm) between voxel
    /// centres; `None` outside the grid's extent. Inside the grid's outer
    /// half-voxel shell the nearest centre values are extended (clamped).
    pub fn trilinear_stencil(&self, p: &Point3<f64>) -> Option<[(usize, f64); 8]> {
        let c = self.patient_to_continuous(p);
        let shape = self.shape();
        let mut lo = [0usize; 3];
        let mut frac = [0f64; 3];
        for a in 0..3 {
            let n = shape[a] as f64;
            if c[a] < -0.5 || c[a] >= n - 0.5 {
                return None;
            }
            let x = c[a].clamp(0.0, n - 1.0);
            let f = x.floor().min(n - 2.0).max(0.0);
            lo[a] = f as usize;
            frac[a] = if shape[a] == 1 { 0.0 } else { x - f };
        }
        let hi = [0, 1, 2].map(|a| (lo[a] + 1).min(shape[a] - 1));
        Some(std::array::from_fn(|corner| {
            let pick = |a: usize| corner >> a & 1 == 1;
            let (i, j, k) = (
                if pick(0) { hi[0] } else { lo[0] },
                if pick(1) { hi[1] } else { lo[1] },
                if pick(2) { hi[2] } else { lo[2] },
            );
            let w = (0..3)
                .map(|a| if pick(a) { frac[a] } else { 1.0 - frac[a] })
                .product::<f64>();
            (self.index(i, j, k), w)
        }))
    }
}

impl Volume<f32> {
    /// Trilinear interpolation at a patient point (mm) between voxel centres
    /// ([`Grid::trilinear_stencil`]); `None` outside the grid's extent.
    pub fn sample_trilinear(&self, p: &Point3<f64>) -> Option<f32> {
        let stencil = self.grid().trilinear_stencil(p)?;
        let data = self.data();
        Some(
            stencil
                .iter()
                .map(|(idx, w)| w * f64::from(data[*idx]))
                .sum::<f64>() as f32,
        )
    }

    /// This volume trilinearly resampled onto `target`; voxels of `target`
    /// outside this volume's extent get `outside`.
    pub fn resample(&self, target: &Grid, outside: f32) -> Volume<f32> {
        resample_with(target, |p| self.sample_trilinear(p).unwrap_or(outside))
    }
}

impl Mask {
    /// This mask resampled onto `target` by nearest voxel centre; outside is `false`.
    pub fn resample_nearest(&self, target: &Grid) -> Mask {
        resample_with(target, |p| {
            self.grid()
                .voxel_of(p)
                .is_some_and(|[i, j, k]| *self.get(i, j, k))
        })
    }
}

fn resample_with<T>(target: &Grid, f: impl Fn(&Point3<f64>) -> T) -> Volume<T> {
    let data = (0..target.len())
        .map(|idx| {
            let [i, j, k] = target.ijk(idx);
            f(&target.voxel_centre(i, j, k))
        })
        .collect();
    Volume::from_vec(target.clone(), data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear_volume() -> Volume<f32> {
        let g = Grid::axial([5, 6, 7], [2.0, 3.0, 2.5], Point3::new(-4.0, 1.0, 0.0)).unwrap();
        let data = (0..g.len())
            .map(|idx| {
                let [i, j, k] = g.ijk(idx);
                let p = g.voxel_centre(i, j, k);
                (1.0 + 0.5 * p.x - 0.25 * p.y + 2.0 * p.z) as f32
            })
            .collect();
        Volume::from_vec(g, data)
    }

    #[test]
    fn trilinear_is_exact_for_linear_fields() {
        let v = linear_volume();
        for p in [
            Point3::new(-3.3, 2.2, 0.7),
            Point3::new(3.9, 15.9, 14.9),
            Point3::new(0.0, 7.0, 8.0),
        ] {
            let expect = 1.0 + 0.5 * p.x - 0.25 * p.y + 2.0 * p.z;
            let got = f64::from(v.sample_trilinear(&p).unwrap());
            assert!((got - expect).abs() < 1e-4, "{p:?}: {got} vs {expect}");
            let stencil = v.grid().trilinear_stencil(&p).unwrap();
            let total: f64 = stencil.iter().map(|(_, w)| w).sum();
            assert!(stencil.iter().all(|(_, w)| *w >= 0.0) && (total - 1.0).abs() < 1e-12);
        }
        assert_eq!(v.sample_trilinear(&Point3::new(-5.1, 2.0, 1.0)), None);
    }

    #[test]
    fn resample_onto_same_grid_is_identity() {
        let v = linear_volume();
        let r = v.resample(v.grid(), f32::NAN);
        for (a, b) in v.data().iter().zip(r.data()) {
            assert!((a - b).abs() < 1e-4);
        }
    }

    #[test]
    fn nearest_mask_resampling_to_finer_grid_keeps_volume() {
        let g = Grid::axial([10, 10, 10], [2.0; 3], Point3::origin()).unwrap();
        let mut m = Mask::filled(g, false);
        for k in 2..6 {
            for j in 3..7 {
                for i in 1..8 {
                    *m.get_mut(i, j, k) = true;
                }
            }
        }
        let fine = Grid::axial([20, 20, 20], [1.0; 3], Point3::new(-0.5, -0.5, -0.5)).unwrap();
        let r = m.resample_nearest(&fine);
        assert!((r.volume_cc() - m.volume_cc()).abs() < 1e-9);
    }
}
