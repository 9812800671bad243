//! Sparse dose-influence matrix: the dose (Gy) per unit weight of every spot in
//! every voxel it reaches, stored by spot (compressed sparse columns, f32),
//! built spot-major on the CPU from the same per-pair function as the kernel's
//! CPU twin (`ferrodose_gpu::cpu::pair_dose`).

use ferrodose_gpu::{cpu::pair_dose, IonPbDose};
use ferrodose_grid::{Grid, Point3};
use rayon::prelude::*;

/// Dose-influence matrix A (voxels × spots) in compressed sparse columns.
#[derive(Debug, Clone)]
pub struct InfluenceMatrix {
    pub n_voxels: usize,
    /// Start of each spot's entries in `voxel` and `dose`; length spots + 1.
    pub column_start: Vec<usize>,
    /// Voxel index of each entry.
    pub voxel: Vec<u32>,
    /// Dose per unit weight (Gy per particle) of each entry.
    pub dose: Vec<f32>,
}

impl InfluenceMatrix {
    /// Builds A for the spots of `input` on `grid` (the grid `input` was made
    /// for), keeping voxels where `keep` is true.
    pub fn build(input: &IonPbDose, grid: &Grid, keep: &[bool]) -> Self {
        assert_eq!(keep.len(), grid.len(), "one keep flag per voxel");
        let p = &input.params;
        let shape = grid.shape();
        let columns: Vec<(Vec<u32>, Vec<f32>)> = input
            .spots
            .par_iter()
            .map(|spot| {
                let mut unit = *spot;
                unit.dir[3] = 1.0;
                // Index box around the ray from its entry to the deepest WED the
                // tables hold, widened by the spot's reach.
                let len = spot.profile_len as usize;
                let profile = &input.profiles[spot.profile_offset as usize..][..len];
                let max_wed = (p.n_depth - 1) as f32 * p.depth_step_mm;
                let last = profile
                    .iter()
                    .position(|w| *w >= max_wed)
                    .unwrap_or(len - 1);
                let t_end = f64::from(last as f32 * p.profile_step_mm);
                let reach = f64::from(spot.origin[3]).sqrt();
                let o = Point3::new(
                    f64::from(spot.origin[0]),
                    f64::from(spot.origin[1]),
                    f64::from(spot.origin[2]),
                );
                let d = nalgebra_dir(spot.dir);
                let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
                for end in [o, o + d * t_end] {
                    for corner in 0..8 {
                        let q = end + nalgebra_offset(corner, reach);
                        let c = grid.patient_to_continuous(&q);
                        for a in 0..3 {
                            lo[a] = lo[a].min(c[a]);
                            hi[a] = hi[a].max(c[a]);
                        }
                    }
                }
                let range = |a: usize| {
                    let l = lo[a].floor().max(0.0) as usize;
                    let h = (hi[a].ceil().max(-1.0) as i64).min(shape[a] as i64 - 1);
                    l..(h + 1).max(l as i64) as usize
                };
                let (mut rows, mut vals) = (Vec::new(), Vec::new());
                for k in range(2) {
                    for j in range(1) {
                        for i in range(0) {
                            let n = grid.index(i, j, k);
                            if !keep[n] {
                                continue;
                            }
                            let c = grid.voxel_centre(i, j, k);
                            let v = pair_dose(
                                p,
                                &unit,
                                &input.idd,
                                &input.sigma_mcs,
                                &input.profiles,
                                [c.x as f32, c.y as f32, c.z as f32],
                            );
                            if v > 0.0 {
                                rows.push(n as u32);
                                vals.push(v * p.gy_per_unit);
                            }
                        }
                    }
                }
                (rows, vals)
            })
            .collect();
        Self::from_sparse_columns(grid.len(), columns)
    }

    /// A matrix from (voxel indices, doses) per column.
    pub fn from_sparse_columns(n_voxels: usize, columns: Vec<(Vec<u32>, Vec<f32>)>) -> Self {
        let mut column_start = Vec::with_capacity(columns.len() + 1);
        column_start.push(0);
        let (mut voxel, mut dose) = (Vec::new(), Vec::new());
        for (r, v) in columns {
            voxel.extend(r);
            dose.extend(v);
            column_start.push(voxel.len());
        }
        Self {
            n_voxels,
            column_start,
            voxel,
            dose,
        }
    }

    /// A matrix from dense columns over the same `voxels`; zeros are dropped.
    pub fn from_columns(n_voxels: usize, voxels: &[u32], columns: &[Vec<f32>]) -> Self {
        let sparse = columns
            .iter()
            .map(|c| {
                voxels
                    .iter()
                    .zip(c)
                    .filter(|(_, d)| **d != 0.0)
                    .map(|(v, d)| (*v, *d))
                    .unzip()
            })
            .collect();
        Self::from_sparse_columns(n_voxels, sparse)
    }

    /// Number of spots (columns).
    pub fn n_spots(&self) -> usize {
        self.column_start.len() - 1
    }

    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.dose.len()
    }

    /// Memory held by the matrix (bytes).
    pub fn bytes(&self) -> usize {
        self.dose.len() * 8 + self.column_start.len() * std::mem::size_of::<usize>()
    }

    /// d = A·w (Gy per voxel).
    pub fn dose(&self, w: &[f64]) -> Vec<f64> {
        let mut d = vec![0.0; self.n_voxels];
        for (s, &ws) in w.iter().enumerate() {
            if ws == 0.0 {
                continue;
            }
            let r = self.column_start[s]..self.column_start[s + 1];
            for (v, a) in self.voxel[r.clone()].iter().zip(&self.dose[r]) {
                d[*v as usize] += ws * f64::from(*a);
            }
        }
        d
    }

    /// g = Aᵀ·x (one value per spot).
    pub fn transpose_mul(&self, x: &[f64]) -> Vec<f64> {
        (0..self.n_spots())
            .into_par_iter()
            .map(|s| {
                let r = self.column_start[s]..self.column_start[s + 1];
                self.voxel[r.clone()]
                    .iter()
                    .zip(&self.dose[r])
                    .map(|(v, a)| x[*v as usize] * f64::from(*a))
                    .sum()
            })
            .collect()
    }
}

fn nalgebra_dir(d: [f32; 4]) -> ferrodose_grid::Vector3<f64> {
    ferrodose_grid::Vector3::new(f64::from(d[0]), f64::from(d[1]), f64::from(d[2]))
}

/// Corner `n` (0..8) of a cube of half-size `r` centred on the origin.
fn nalgebra_offset(n: usize, r: f64) -> ferrodose_grid::Vector3<f64> {
    let s = |bit: usize| if n >> bit & 1 == 1 { r } else { -r };
    ferrodose_grid::Vector3::new(s(0), s(1), s(2))
}
