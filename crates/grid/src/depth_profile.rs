//! Rays for ray casting (the `wed_profile` kernel): where a ray enters and
//! leaves a grid, in the kernel's index coordinates, and how many samples
//! of water-equivalent depth it takes.

use crate::{Grid, Point3, Vector3};

/// A ray clipped to a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexRay {
    /// Entry point into the grid (mm, patient coordinates).
    pub entry_mm: Point3<f64>,
    /// The entry point in index coordinates, where voxel (i, j, k) spans
    /// [i, i + 1) × [j, j + 1) × [k, k + 1).
    pub entry_index: [f64; 3],
    /// Index coordinates per mm along the ray.
    pub index_per_mm: [f64; 3],
    /// Samples `step_mm` apart from the entry point to the exit (≥ 2).
    pub n_samples: usize,
}

/// The ray from `start` along unit `dir` for `length_mm`, clipped to `grid`
/// (slab method), with samples every `step_mm` from its entry to its exit;
/// `None` when it misses the grid.
pub fn index_ray(
    grid: &Grid,
    start: &Point3<f64>,
    dir: &Vector3<f64>,
    length_mm: f64,
    step_mm: f64,
) -> Option<IndexRay> {
    let a = grid.patient_to_continuous(start).add_scalar(0.5);
    let d = grid.patient_to_continuous(&(start + dir)).add_scalar(0.5) - a;
    let shape = grid.shape();
    let (mut t0, mut t1) = (0.0f64, length_mm);
    for ax in 0..3 {
        let n = shape[ax] as f64;
        if d[ax] == 0.0 {
            if a[ax] < 0.0 || a[ax] >= n {
                return None;
            }
        } else {
            let (ta, tb) = ((0.0 - a[ax]) / d[ax], (n - a[ax]) / d[ax]);
            t0 = t0.max(ta.min(tb));
            t1 = t1.min(ta.max(tb));
        }
    }
    if t0 >= t1 {
        return None;
    }
    let entry = a + d * t0;
    Some(IndexRay {
        entry_mm: start + dir * t0,
        entry_index: [entry.x, entry.y, entry.z],
        index_per_mm: [d.x, d.y, d.z],
        n_samples: (((t1 - t0) / step_mm).ceil() as usize + 1).max(2),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Along z through 20 voxels of 1 mm from 50 mm before the grid: entry at
    /// the face z = 0 (index 0), 20 mm to the exit, 41 samples of 0.5 mm; a
    /// ray beside the grid misses it.
    #[test]
    fn clips_to_the_grid() {
        let g = Grid::axial([1, 1, 20], [1.0, 1.0, 1.0], Point3::new(0.0, 0.0, 0.5)).unwrap();
        let r = index_ray(&g, &Point3::new(0.0, 0.0, -50.0), &Vector3::z(), 200.0, 0.5).unwrap();
        assert!((r.entry_mm - Point3::new(0.0, 0.0, 0.0)).norm() < 1e-9);
        assert!(r.entry_index[2].abs() < 1e-9 && (r.entry_index[0] - 0.5).abs() < 1e-9);
        assert_eq!(r.index_per_mm, [0.0, 0.0, 1.0]);
        assert_eq!(r.n_samples, 41);
        assert!(index_ray(&g, &Point3::new(5.0, 0.0, -50.0), &Vector3::z(), 200.0, 0.5).is_none());
    }
}
