//! Sparse dose-influence matrix: the dose (Gy) per unit weight of every beam
//! element (ion spot, photon control point or beamlet) in every voxel it
//! reaches, stored by column (each column a compressed row of Aᵀ, f32).

use ferrodose_gpu::{CompressedRows, SparseError};

/// Dose-influence matrix A (voxels × columns), held as Aᵀ in compressed rows:
/// row s of `by_column` lists the voxels column s reaches and its dose there
/// (Gy per unit weight).
#[derive(Debug, Clone)]
pub struct InfluenceMatrix {
    pub by_column: CompressedRows,
}

impl InfluenceMatrix {
    /// A matrix over `n_voxels` voxels from (voxel indices, doses) per column.
    pub fn from_sparse_columns(
        n_voxels: usize,
        columns: Vec<(Vec<u32>, Vec<f32>)>,
    ) -> Result<Self, SparseError> {
        Ok(Self {
            by_column: CompressedRows::from_rows(n_voxels, columns)?,
        })
    }

    /// A matrix from dense columns over the same `voxels`; zeros are dropped.
    pub fn from_columns(
        n_voxels: usize,
        voxels: &[u32],
        columns: &[Vec<f32>],
    ) -> Result<Self, SparseError> {
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

    /// Number of voxels (rows of A).
    pub fn n_voxels(&self) -> usize {
        self.by_column.n_cols
    }

    /// Number of columns.
    pub fn n_columns(&self) -> usize {
        self.by_column.n_rows()
    }

    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.by_column.nnz()
    }

    /// Memory held by the matrix (bytes).
    pub fn bytes(&self) -> usize {
        self.by_column.bytes()
    }

    /// Column s: (voxel indices, Gy per unit weight).
    pub fn column(&self, s: usize) -> (&[u32], &[f32]) {
        self.by_column.row(s)
    }

    /// d = A·w (Gy per voxel) in f64, for a single product outside the
    /// optimiser's loop (which uses the `sparse_mat_vec` kernel).
    pub fn dose(&self, w: &[f64]) -> Vec<f64> {
        let mut d = vec![0.0; self.n_voxels()];
        for (s, &ws) in w.iter().enumerate().filter(|(_, w)| **w != 0.0) {
            let (voxels, doses) = self.column(s);
            for (v, a) in voxels.iter().zip(doses) {
                d[*v as usize] += ws * f64::from(*a);
            }
        }
        d
    }
}
