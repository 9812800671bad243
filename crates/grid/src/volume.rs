//! Dense data over a grid (`Volume<T>`) and binary masks (`Mask`).

use crate::Grid;

/// Dense voxel data over a [`Grid`], stored i fastest (see the crate docs).
#[derive(Debug, Clone, PartialEq)]
pub struct Volume<T> {
    grid: Grid,
    data: Vec<T>,
}

/// A binary mask over a grid: `true` where a voxel centre lies inside a structure.
pub type Mask = Volume<bool>;

impl<T: Clone> Volume<T> {
    /// A volume holding `value` everywhere.
    pub fn filled(grid: Grid, value: T) -> Self {
        let data = vec![value; grid.len()];
        Self { grid, data }
    }
}

impl<T> Volume<T> {
    /// Wraps data laid out i fastest; panics if its length is not the grid's.
    pub fn from_vec(grid: Grid, data: Vec<T>) -> Self {
        assert_eq!(
            data.len(),
            grid.len(),
            "volume data length must equal the number of voxels"
        );
        Self { grid, data }
    }

    /// The grid the data lives on.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// All voxel values, i fastest.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// All voxel values, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// Value at voxel `(i, j, k)`.
    pub fn get(&self, i: usize, j: usize, k: usize) -> &T {
        &self.data[self.grid.index(i, j, k)]
    }

    /// Mutable value at voxel `(i, j, k)`.
    pub fn get_mut(&mut self, i: usize, j: usize, k: usize) -> &mut T {
        let idx = self.grid.index(i, j, k);
        &mut self.data[idx]
    }

    /// A new volume on the same grid with `f` applied to each value.
    pub fn map<U>(&self, f: impl Fn(&T) -> U) -> Volume<U> {
        Volume {
            grid: self.grid.clone(),
            data: self.data.iter().map(f).collect(),
        }
    }
}

impl<T: Copy + PartialOrd> Volume<T> {
    /// Smallest and largest value.
    pub fn min_max(&self) -> (T, T) {
        let first = self.data[0];
        self.data.iter().fold((first, first), |(lo, hi), &v| {
            (if v < lo { v } else { lo }, if v > hi { v } else { hi })
        })
    }
}

impl Mask {
    /// Number of voxels inside.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b).count()
    }

    /// Volume inside in cm³ (cc).
    pub fn volume_cc(&self) -> f64 {
        self.count() as f64 * self.grid.voxel_volume_mm3() / 1000.0
    }

    /// Linear indices of the voxels inside, ascending.
    pub fn voxel_indices(&self) -> Vec<u32> {
        self.data
            .iter()
            .enumerate()
            .filter(|(_, b)| **b)
            .map(|(n, _)| n as u32)
            .collect()
    }

    /// Centre of mass (mm) of the voxel centres inside; `None` for an empty mask.
    pub fn centroid_mm(&self) -> Option<nalgebra::Point3<f64>> {
        let (sum, n) = self.data.iter().enumerate().filter(|(_, b)| **b).fold(
            (nalgebra::Vector3::zeros(), 0usize),
            |(s, n), (i, _)| {
                let [a, b, c] = self.grid.ijk(i);
                (s + self.grid.voxel_centre(a, b, c).coords, n + 1)
            },
        );
        (n > 0).then(|| nalgebra::Point3::from(sum / n as f64))
    }

    /// Sørensen–Dice coefficient 2|A∩B| / (|A|+|B|); 1 for two empty masks.
    pub fn dice(&self, other: &Mask) -> f64 {
        assert!(
            self.grid.same_as(&other.grid, 1e-6),
            "dice needs masks on one grid"
        );
        let both = self
            .data
            .iter()
            .zip(&other.data)
            .filter(|(a, b)| **a && **b)
            .count();
        let total = self.count() + other.count();
        if total == 0 {
            1.0
        } else {
            2.0 * both as f64 / total as f64
        }
    }

    /// Voxels in `self` and not in `other` (for example liver minus GTV).
    pub fn minus(&self, other: &Mask) -> Mask {
        self.combine(other, |a, b| a && !b)
    }

    /// Voxels in either mask.
    pub fn union(&self, other: &Mask) -> Mask {
        self.combine(other, |a, b| a || b)
    }

    /// Voxels in both masks.
    pub fn intersection(&self, other: &Mask) -> Mask {
        self.combine(other, |a, b| a && b)
    }

    /// The mask grown by `margin_mm` in every direction (PTV = CTV + margin): a
    /// voxel joins when its centre lies within `margin_mm` of an inside voxel's
    /// centre, the voxel-based expansion of matRad's `matRad_addMargin`. On a
    /// voxel grid this is a lower bound of the ideal offset: an ellipsoid grown by
    /// 5 mm on 2.5 mm voxels comes out about 7 % smaller in volume than the
    /// analytic offset (test `dilating_a_sphere_vs_analytic_offset`).
    pub fn dilated(&self, margin_mm: f64) -> Mask {
        let s = self.grid.spacing_mm();
        let [nx, ny, nz] = self.grid.shape();
        let reach = s.map(|d| (margin_mm / d).floor() as i64);
        let mut ball = Vec::new();
        for dk in -reach[2]..=reach[2] {
            for dj in -reach[1]..=reach[1] {
                for di in -reach[0]..=reach[0] {
                    let r2 = (di as f64 * s[0]).powi(2)
                        + (dj as f64 * s[1]).powi(2)
                        + (dk as f64 * s[2]).powi(2);
                    if r2 <= margin_mm * margin_mm + 1e-9 {
                        ball.push([di, dj, dk]);
                    }
                }
            }
        }
        let mut out = self.clone();
        let inside = |i: i64, j: i64, k: i64| {
            i >= 0
                && j >= 0
                && k >= 0
                && (i as usize) < nx
                && (j as usize) < ny
                && (k as usize) < nz
        };
        for idx in 0..self.data.len() {
            if !self.data[idx] {
                continue;
            }
            let [i, j, k] = self.grid.ijk(idx).map(|v| v as i64);
            // Interior voxels (all 6 neighbours inside) add nothing new.
            let interior = [
                [1, 0, 0],
                [-1, 0, 0],
                [0, 1, 0],
                [0, -1, 0],
                [0, 0, 1],
                [0, 0, -1],
            ]
            .iter()
            .all(|[a, b, c]| {
                inside(i + a, j + b, k + c)
                    && self.data[self.grid.index(
                        (i + a) as usize,
                        (j + b) as usize,
                        (k + c) as usize,
                    )]
            });
            if interior {
                continue;
            }
            for [di, dj, dk] in &ball {
                let (a, b, c) = (i + di, j + dj, k + dk);
                if inside(a, b, c) {
                    let n = self.grid.index(a as usize, b as usize, c as usize);
                    out.data[n] = true;
                }
            }
        }
        out
    }

    fn combine(&self, other: &Mask, f: impl Fn(bool, bool) -> bool) -> Mask {
        assert!(
            self.grid.same_as(&other.grid, 1e-6),
            "mask algebra needs one grid"
        );
        Volume {
            grid: self.grid.clone(),
            data: self
                .data
                .iter()
                .zip(&other.data)
                .map(|(a, b)| f(*a, *b))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::Point3;

    fn grid() -> Grid {
        Grid::axial([4, 4, 2], [2.0, 2.0, 5.0], Point3::origin()).unwrap()
    }

    #[test]
    fn mask_algebra_and_volume() {
        let mut a = Mask::filled(grid(), false);
        let mut b = Mask::filled(grid(), false);
        for i in 0..4 {
            *a.get_mut(i, 0, 0) = true;
        }
        for i in 2..4 {
            *b.get_mut(i, 0, 0) = true;
        }
        *b.get_mut(0, 1, 0) = true;
        assert_eq!(a.count(), 4);
        assert_eq!(b.voxel_indices(), vec![2, 3, 4]);
        assert!((a.volume_cc() - 4.0 * 20.0 / 1000.0).abs() < 1e-12);
        assert_eq!(a.minus(&b).count(), 2);
        assert_eq!(a.union(&b).count(), 5);
        assert_eq!(a.intersection(&b).count(), 2);
        assert!((a.dice(&b) - 4.0 / 7.0).abs() < 1e-12);
        // Voxels (0..4, 0, 0) at x = 0, 2, 4, 6 mm: centroid x = 3 mm.
        assert_eq!(a.centroid_mm(), Some(Point3::new(3.0, 0.0, 0.0)));
        assert_eq!(Mask::filled(grid(), false).centroid_mm(), None);
    }

    #[test]
    fn dilating_a_point_gives_a_ball() {
        let g = Grid::axial([21, 21, 21], [1.0, 1.0, 2.0], Point3::origin()).unwrap();
        let mut m = Mask::filled(g, false);
        *m.get_mut(10, 10, 10) = true;
        let d = m.dilated(4.0);
        // Centres within 4 mm of the seed centre on a 1 × 1 × 2 mm lattice.
        let mut expect = 0;
        for k in -2i32..=2 {
            for j in -4i32..=4 {
                for i in -4i32..=4 {
                    if f64::from(i * i + j * j + 4 * k * k) <= 16.0 {
                        expect += 1;
                    }
                }
            }
        }
        assert_eq!(d.count(), expect);
        assert!(*d.get(14, 10, 10) && !*d.get(15, 10, 10));
        assert!(*d.get(10, 10, 12) && !*d.get(10, 10, 13) && !*d.get(13, 12, 11));
    }

    /// A 28 mm sphere grown by 5 mm on 2.5 mm voxels against the 33 mm sphere.
    #[test]
    fn dilating_a_sphere_vs_analytic_offset() {
        let g = Grid::axial([41, 41, 41], [2.5; 3], Point3::new(-50.0, -50.0, -50.0)).unwrap();
        let ball = |r: f64| {
            let data = (0..g.len())
                .map(|n| {
                    let [i, j, k] = g.ijk(n);
                    g.voxel_centre(i, j, k).coords.norm() <= r
                })
                .collect();
            Mask::from_vec(g.clone(), data)
        };
        let grown = ball(28.0).dilated(5.0);
        let ideal = ball(33.0);
        assert_eq!(ball(28.0).minus(&grown).count(), 0);
        assert_eq!(
            grown.minus(&ideal).count(),
            0,
            "never beyond the ideal offset"
        );
        let ratio = grown.volume_cc() / ideal.volume_cc();
        assert!((0.88..0.97).contains(&ratio), "{ratio}");
    }

    #[test]
    fn min_max_and_map() {
        let mut v = Volume::filled(grid(), 0.0f32);
        *v.get_mut(3, 3, 1) = 5.0;
        *v.get_mut(1, 0, 0) = -2.0;
        assert_eq!(v.min_max(), (-2.0, 5.0));
        assert_eq!(v.map(|x| *x > 1.0).count(), 1);
    }
}
