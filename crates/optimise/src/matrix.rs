//! Sparse dose-influence matrix: the dose (Gy) per unit weight of every beam
//! element (ion spot, photon control point or beamlet) in every voxel it
//! reaches, stored by column (each column a compressed row of Aᵀ, f32),
//! optionally plus a part held on a coarser lattice of nodes and
//! interpolated onto the voxels (A = F + P·H).

use ferrodose_gpu::{CompressedRows, SparseError};

/// Dose-influence matrix A (voxels × columns) = F + P·H. F is held as Fᵀ in
/// compressed rows: row s of `by_column` lists the voxels column s reaches
/// and its dose there (Gy per unit weight). `coarse`, where present, holds
/// H and P.
#[derive(Debug, Clone)]
pub struct InfluenceMatrix {
    pub by_column: CompressedRows,
    pub coarse: Option<CoarsePart>,
}

/// The part of every column that varies slowly in space, held on a lattice
/// of nodes coarser than the voxels and interpolated onto them: the ion
/// spots' lateral tail (nuclear halo, fragments), whose σ is tens of mm.
#[derive(Debug, Clone)]
pub struct CoarsePart {
    /// Hᵀ: row s lists the nodes column s reaches and its dose there (Gy per
    /// unit weight); `n_cols` is the number of nodes.
    pub by_column: CompressedRows,
    /// P (voxels × nodes): row v lists the nodes voxel v's dose is
    /// interpolated from and their weights (summing to 1); empty for a voxel
    /// that no objective reads.
    pub interpolation: CompressedRows,
}

/// Why a coarse part does not fit a matrix.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("coarse part: {0}")]
pub struct CoarseMismatch(String);

impl InfluenceMatrix {
    /// A matrix over `n_voxels` voxels from (voxel indices, doses) per column.
    pub fn from_sparse_columns(
        n_voxels: usize,
        columns: Vec<(Vec<u32>, Vec<f32>)>,
    ) -> Result<Self, SparseError> {
        Ok(Self {
            by_column: CompressedRows::from_rows(n_voxels, columns)?,
            coarse: None,
        })
    }

    /// This matrix plus `coarse` (P·H), checked: H has one row per column of
    /// this matrix, P one row per voxel, and both count the same nodes.
    pub fn with_coarse(mut self, coarse: CoarsePart) -> Result<Self, CoarseMismatch> {
        let (h, p) = (&coarse.by_column, &coarse.interpolation);
        if h.n_rows() != self.n_columns() || p.n_rows() != self.n_voxels() || p.n_cols != h.n_cols {
            return Err(CoarseMismatch(format!(
                "H has {} columns over {} nodes, P {} voxels over {} nodes; the matrix has {} columns over {} voxels",
                h.n_rows(),
                h.n_cols,
                p.n_rows(),
                p.n_cols,
                self.n_columns(),
                self.n_voxels()
            )));
        }
        self.coarse = Some(coarse);
        Ok(self)
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

    /// Stored dose entries: F's and H's (P's interpolation weights not counted).
    pub fn nnz(&self) -> usize {
        self.by_column.nnz() + self.coarse.as_ref().map_or(0, |c| c.by_column.nnz())
    }

    /// Memory held by the matrix, F, H and P (bytes).
    pub fn bytes(&self) -> usize {
        self.by_column.bytes()
            + self
                .coarse
                .as_ref()
                .map_or(0, |c| c.by_column.bytes() + c.interpolation.bytes())
    }

    /// Column s of F: (voxel indices, Gy per unit weight); the whole column
    /// of A where the matrix has no coarse part.
    pub fn column(&self, s: usize) -> (&[u32], &[f32]) {
        self.by_column.row(s)
    }

    /// d = A·w (Gy per voxel) in f64, for a single product outside the
    /// optimiser's loop (which uses the `sparse_mat_vec` kernel).
    pub fn dose(&self, w: &[f64]) -> Vec<f64> {
        let mut d = transpose_mul(&self.by_column, w);
        if let Some(c) = &self.coarse {
            let nodes = transpose_mul(&c.by_column, w);
            for (v, d) in d.iter_mut().enumerate() {
                let (n, p) = c.interpolation.row(v);
                *d += n
                    .iter()
                    .zip(p)
                    .map(|(n, p)| f64::from(*p) * nodes[*n as usize])
                    .sum::<f64>();
            }
        }
        d
    }
}

/// Mᵀ·w in f64 for M in compressed rows (one w per row).
fn transpose_mul(m: &CompressedRows, w: &[f64]) -> Vec<f64> {
    let mut d = vec![0.0; m.n_cols];
    for (s, &ws) in w.iter().enumerate().filter(|(_, w)| **w != 0.0) {
        let (cols, vals) = m.row(s);
        for (c, a) in cols.iter().zip(vals) {
            d[*c as usize] += ws * f64::from(*a);
        }
    }
    d
}
