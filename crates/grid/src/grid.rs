//! The voxel grid: shape, spacing, origin and orientation in patient coordinates.

use nalgebra::{Matrix3, Point3, Vector3};
use serde::{Deserialize, Serialize};

/// Why a grid cannot be built.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum GridError {
    #[error("grid shape {0:?} has a zero dimension")]
    EmptyShape([usize; 3]),
    #[error("grid spacing {0:?} mm must be finite and positive on every axis")]
    BadSpacing([f64; 3]),
    #[error("grid axes must be orthonormal direction cosines, got {0:?}")]
    BadAxes([[f64; 3]; 3]),
}

/// A regular voxel grid in DICOM patient coordinates (mm).
///
/// Voxel `(i, j, k)` has its centre at
/// `origin_mm + i·spacing_mm[0]·axes[0] + j·spacing_mm[1]·axes[1] + k·spacing_mm[2]·axes[2]`,
/// where `axes` are unit direction cosines. For a CT, `axes[0]` is the row
/// direction (along a row, increasing column), `axes[1]` the column direction and
/// `axes[2]` the slice normal in the direction of increasing slice position.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grid {
    shape: [usize; 3],
    spacing_mm: [f64; 3],
    origin_mm: [f64; 3],
    axes: [[f64; 3]; 3],
}

impl Grid {
    /// A grid with arbitrary orthonormal orientation.
    pub fn new(
        shape: [usize; 3],
        spacing_mm: [f64; 3],
        origin_mm: Point3<f64>,
        axes: [Vector3<f64>; 3],
    ) -> Result<Self, GridError> {
        if shape.contains(&0) {
            return Err(GridError::EmptyShape(shape));
        }
        if spacing_mm.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
            return Err(GridError::BadSpacing(spacing_mm));
        }
        let raw = axes.map(|a| [a.x, a.y, a.z]);
        let m = Matrix3::from_columns(&axes);
        if !(m.transpose() * m - Matrix3::identity())
            .iter()
            .all(|e| e.abs() < 1e-4)
        {
            return Err(GridError::BadAxes(raw));
        }
        Ok(Self {
            shape,
            spacing_mm,
            origin_mm: [origin_mm.x, origin_mm.y, origin_mm.z],
            axes: raw,
        })
    }

    /// An axial grid whose axes are the patient axes (+x, +y, +z).
    pub fn axial(
        shape: [usize; 3],
        spacing_mm: [f64; 3],
        origin_mm: Point3<f64>,
    ) -> Result<Self, GridError> {
        Self::new(
            shape,
            spacing_mm,
            origin_mm,
            [Vector3::x(), Vector3::y(), Vector3::z()],
        )
    }

    /// Number of voxels along `(i, j, k)`.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Voxel size along `(i, j, k)` in mm.
    pub fn spacing_mm(&self) -> [f64; 3] {
        self.spacing_mm
    }

    /// Centre of voxel `(0, 0, 0)` in patient coordinates (mm).
    pub fn origin_mm(&self) -> Point3<f64> {
        Point3::from(self.origin_mm)
    }

    /// Unit direction of grid axis `a` (0, 1 or 2) in patient coordinates.
    pub fn axis(&self, a: usize) -> Vector3<f64> {
        Vector3::from(self.axes[a])
    }

    /// The three axis directions as matrix columns.
    pub fn axes_matrix(&self) -> Matrix3<f64> {
        Matrix3::from_columns(&[self.axis(0), self.axis(1), self.axis(2)])
    }

    /// Total number of voxels.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Always false: a grid has at least one voxel.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Volume of one voxel in mm³.
    pub fn voxel_volume_mm3(&self) -> f64 {
        self.spacing_mm.iter().product()
    }

    /// Linear index of voxel `(i, j, k)` (i fastest).
    #[inline]
    pub fn index(&self, i: usize, j: usize, k: usize) -> usize {
        debug_assert!(i < self.shape[0] && j < self.shape[1] && k < self.shape[2]);
        i + self.shape[0] * (j + self.shape[1] * k)
    }

    /// Voxel `(i, j, k)` of a linear index.
    #[inline]
    pub fn ijk(&self, index: usize) -> [usize; 3] {
        let [nx, ny, _] = self.shape;
        [index % nx, (index / nx) % ny, index / (nx * ny)]
    }

    /// Centre of voxel `(i, j, k)` in patient coordinates (mm).
    pub fn voxel_centre(&self, i: usize, j: usize, k: usize) -> Point3<f64> {
        self.continuous_to_patient(Vector3::new(i as f64, j as f64, k as f64))
    }

    /// Patient point (mm) of a continuous voxel index (integer values at centres).
    pub fn continuous_to_patient(&self, c: Vector3<f64>) -> Point3<f64> {
        let s = self.spacing_mm;
        self.origin_mm() + self.axes_matrix() * Vector3::new(c.x * s[0], c.y * s[1], c.z * s[2])
    }

    /// Continuous voxel index of a patient point (mm); voxel centres are integers,
    /// so voxel `i` covers `[i − ½, i + ½)` along its axis.
    pub fn patient_to_continuous(&self, p: &Point3<f64>) -> Vector3<f64> {
        let local = self.axes_matrix().transpose() * (p - self.origin_mm());
        let s = self.spacing_mm;
        Vector3::new(local.x / s[0], local.y / s[1], local.z / s[2])
    }

    /// The voxel holding a patient point, if the point is inside the grid.
    pub fn voxel_of(&self, p: &Point3<f64>) -> Option<[usize; 3]> {
        let c = self.patient_to_continuous(p);
        let mut out = [0usize; 3];
        for a in 0..3 {
            let v = (c[a] + 0.5).floor();
            if v < 0.0 || v >= self.shape[a] as f64 {
                return None;
            }
            out[a] = v as usize;
        }
        Some(out)
    }

    /// Whether two grids coincide (shape equal, geometry within `tol_mm`).
    pub fn same_as(&self, other: &Grid, tol_mm: f64) -> bool {
        self.shape == other.shape
            && (0..3).all(|a| (self.spacing_mm[a] - other.spacing_mm[a]).abs() <= tol_mm)
            && (self.origin_mm() - other.origin_mm()).norm() <= tol_mm
            && (self.axes_matrix() - other.axes_matrix())
                .iter()
                .all(|e| e.abs() < 1e-6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_round_trip_and_centres() {
        let g = Grid::axial([4, 5, 6], [1.0, 2.0, 3.0], Point3::new(-10.0, 0.0, 5.0)).unwrap();
        for idx in [0, 1, 7, 33, g.len() - 1] {
            let [i, j, k] = g.ijk(idx);
            assert_eq!(g.index(i, j, k), idx);
        }
        let c = g.voxel_centre(1, 2, 3);
        assert_eq!(c, Point3::new(-9.0, 4.0, 14.0));
        assert_eq!(g.voxel_of(&c), Some([1, 2, 3]));
        assert_eq!(g.voxel_of(&Point3::new(-10.6, 0.0, 5.0)), None);
        assert_eq!(g.voxel_of(&Point3::new(-10.4, 0.0, 5.0)), Some([0, 0, 0]));
        assert_eq!(g.voxel_volume_mm3(), 6.0);
    }

    #[test]
    fn oriented_grid_maps_both_ways() {
        // A grid whose slice normal points to -z (feet-first ordering).
        let g = Grid::new(
            [3, 3, 3],
            [2.0, 2.0, 2.5],
            Point3::new(1.0, 2.0, 3.0),
            [Vector3::x(), -Vector3::y(), -Vector3::z()],
        )
        .unwrap();
        let p = g.voxel_centre(2, 1, 2);
        assert!((p - Point3::new(5.0, 0.0, -2.0)).norm() < 1e-12);
        let c = g.patient_to_continuous(&p);
        assert!((c - Vector3::new(2.0, 1.0, 2.0)).norm() < 1e-12);
    }

    #[test]
    fn refuses_bad_grids() {
        let o = Point3::origin();
        assert_eq!(
            Grid::axial([0, 1, 1], [1.0; 3], o),
            Err(GridError::EmptyShape([0, 1, 1]))
        );
        assert!(Grid::axial([1, 1, 1], [1.0, 0.0, 1.0], o).is_err());
        assert!(Grid::new(
            [1, 1, 1],
            [1.0; 3],
            o,
            [Vector3::x(), Vector3::x(), Vector3::z()]
        )
        .is_err());
    }
}
