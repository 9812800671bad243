//! Sparse dose-influence matrix: the dose (Gy) per unit weight of every beam
//! element (ion spot, photon control point or beamlet) in every voxel it
//! reaches, stored by column (compressed sparse columns, f32).

use rayon::prelude::*;

/// Dose-influence matrix A (voxels × columns) in compressed sparse columns.
#[derive(Debug, Clone)]
pub struct InfluenceMatrix {
    pub n_voxels: usize,
    /// Start of each column's entries in `voxel` and `dose`; length columns + 1.
    pub column_start: Vec<usize>,
    /// Voxel index of each entry.
    pub voxel: Vec<u32>,
    /// Dose per unit weight (Gy per unit weight) of each entry.
    pub dose: Vec<f32>,
}

impl InfluenceMatrix {
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

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
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

    /// g = Aᵀ·x (one value per column).
    pub fn transpose_mul(&self, x: &[f64]) -> Vec<f64> {
        (0..self.n_columns())
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
