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

    /// Gives back the raw data.
    pub fn into_data(self) -> Vec<T> {
        self.data
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
        assert!((a.volume_cc() - 4.0 * 20.0 / 1000.0).abs() < 1e-12);
        assert_eq!(a.minus(&b).count(), 2);
        assert_eq!(a.union(&b).count(), 5);
        assert_eq!(a.intersection(&b).count(), 2);
        assert!((a.dice(&b) - 4.0 / 7.0).abs() < 1e-12);
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
