//! Sparse matrix–vector products (`shaders/sparse_mat_vec.wgsl`) on a matrix in
//! compressed rows that stays on the device between products.

use crate::context::{GpuContext, GpuError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;
use std::ops::Range;

const SPARSE_MAT_VEC_WGSL: &str = include_str!("../../../../shaders/sparse_mat_vec.wgsl");

/// Uniform parameters of `sparse_mat_vec.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct SparseMatVecParams {
    /// Rows in this dispatch.
    pub n_rows: u32,
    pub _pad: [u32; 3],
}

/// Why a sparse matrix is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SparseError {
    #[error("a sparse matrix holds at most 4294967295 entries (u32 offsets), got {0}; use a coarser dose grid or fewer beam elements")]
    TooManyEntries(usize),
    #[error("row {row} refers to column {col}, but the matrix has {n_cols} columns")]
    ColumnOutOfRange { row: usize, col: u32, n_cols: usize },
    #[error("row {row} has {len} indices but {values} values")]
    RaggedRow {
        row: usize,
        len: usize,
        values: usize,
    },
}

/// How one sparse matrix departs from another (`CompressedRows::difference`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowsDifference {
    /// Entries that only one of the two holds.
    pub only_one: usize,
    /// Largest |difference| of an entry (a missing one counts as 0).
    pub largest: f32,
    /// Largest |entry| of the first matrix.
    pub largest_entry: f32,
}

/// A sparse matrix in compressed rows: the entries of row `r` are
/// `row_start[r]..row_start[r + 1]` of `col` (column index) and `val` (f32).
#[derive(Debug, Clone, PartialEq)]
pub struct CompressedRows {
    pub n_cols: usize,
    pub row_start: Vec<u32>,
    pub col: Vec<u32>,
    pub val: Vec<f32>,
}

impl CompressedRows {
    /// A matrix from (column indices, values) per row, checked.
    pub fn from_rows(n_cols: usize, rows: Vec<(Vec<u32>, Vec<f32>)>) -> Result<Self, SparseError> {
        let nnz: usize = rows.iter().map(|(c, _)| c.len()).sum();
        if nnz > u32::MAX as usize {
            return Err(SparseError::TooManyEntries(nnz));
        }
        let mut m = Self {
            n_cols,
            row_start: Vec::with_capacity(rows.len() + 1),
            col: Vec::with_capacity(nnz),
            val: Vec::with_capacity(nnz),
        };
        m.row_start.push(0);
        for (row, (c, v)) in rows.iter().enumerate() {
            m.push_row(row, c, v)?;
        }
        Ok(m)
    }

    /// A matrix of `n_rows` rows whose row `r` holds the entries that
    /// `fill(r, cols, vals)` appends, checked. Rows are filled in parallel
    /// in waves of `ROWS_PER_WAVE`; one wave is appended to the matrix (in
    /// row order, then its buffers dropped) while the next is filled. Of a
    /// large matrix only the result and two waves are held, not a second
    /// copy of every row (`from_rows`).
    pub fn from_row_fn(
        n_cols: usize,
        n_rows: usize,
        fill: impl Fn(usize, &mut Vec<u32>, &mut Vec<f32>) + Sync,
    ) -> Result<Self, SparseError> {
        const ROWS_PER_WAVE: usize = 256;
        type Rows = Vec<(Vec<u32>, Vec<f32>)>;
        let mut m = Self {
            n_cols,
            row_start: Vec::with_capacity(n_rows + 1),
            col: Vec::new(),
            val: Vec::new(),
        };
        m.row_start.push(0);
        let wave = |first: usize| -> Rows {
            (first..n_rows.min(first + ROWS_PER_WAVE))
                .into_par_iter()
                .map(|r| {
                    let (mut c, mut v) = (Vec::new(), Vec::new());
                    fill(r, &mut c, &mut v);
                    (c, v)
                })
                .collect()
        };
        let append = |m: &mut Self, rows: Rows| -> Result<(), SparseError> {
            let first = m.n_rows();
            for (n, (c, v)) in rows.iter().enumerate() {
                m.push_row(first + n, c, v)?;
            }
            Ok(())
        };
        let mut filled: Rows = Vec::new();
        for first in (0..n_rows).step_by(ROWS_PER_WAVE) {
            let (appended, next) = rayon::join(|| append(&mut m, filled), || wave(first));
            appended?;
            filled = next;
        }
        append(&mut m, filled)?;
        Ok(m)
    }

    /// Appends row `row` (its index, for errors), checked.
    fn push_row(&mut self, row: usize, c: &[u32], v: &[f32]) -> Result<(), SparseError> {
        if c.len() != v.len() {
            return Err(SparseError::RaggedRow {
                row,
                len: c.len(),
                values: v.len(),
            });
        }
        if let Some(&col) = c.iter().find(|c| **c as usize >= self.n_cols) {
            return Err(SparseError::ColumnOutOfRange {
                row,
                col,
                n_cols: self.n_cols,
            });
        }
        let nnz = self.col.len() + c.len();
        if nnz > u32::MAX as usize {
            return Err(SparseError::TooManyEntries(nnz));
        }
        self.col.extend_from_slice(c);
        self.val.extend_from_slice(v);
        self.row_start.push(nnz as u32);
        Ok(())
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.row_start.len() - 1
    }

    /// Stored entries.
    pub fn nnz(&self) -> usize {
        self.val.len()
    }

    /// Memory held (bytes).
    pub fn bytes(&self) -> usize {
        (self.val.len() + self.col.len() + self.row_start.len()) * 4
    }

    /// The entries of row `r`: (column indices, values).
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let k = self.row_start[r] as usize..self.row_start[r + 1] as usize;
        (&self.col[k.clone()], &self.val[k])
    }

    /// How `other` (same number of rows, each row's columns distinct)
    /// departs from `self`: entries only one of them holds, and the largest
    /// |difference| of an entry (one missing from a matrix counts as 0).
    pub fn difference(&self, other: &Self) -> RowsDifference {
        assert_eq!(self.n_rows(), other.n_rows(), "same rows");
        let (mut only_one, mut largest) = (0, 0.0f32);
        for r in 0..self.n_rows() {
            let (cols, vals) = other.row(r);
            let mut theirs: std::collections::HashMap<u32, f32> =
                cols.iter().copied().zip(vals.iter().copied()).collect();
            let (cols, vals) = self.row(r);
            for (c, v) in cols.iter().zip(vals) {
                let w = theirs.remove(c).unwrap_or_else(|| {
                    only_one += 1;
                    0.0
                });
                largest = largest.max((v - w).abs());
            }
            only_one += theirs.len();
            largest = theirs.values().fold(largest, |m, v| m.max(v.abs()));
        }
        RowsDifference {
            only_one,
            largest,
            largest_entry: self.val.iter().fold(0.0f32, |m, v| m.max(v.abs())),
        }
    }

    /// The transpose, with each row's entries in ascending column order.
    pub fn transpose(&self) -> Self {
        let mut count = vec![0u32; self.n_cols + 1];
        for &c in &self.col {
            count[c as usize + 1] += 1;
        }
        for c in 0..self.n_cols {
            count[c + 1] += count[c];
        }
        let row_start = count.clone();
        let mut next = count;
        let (mut col, mut val) = (vec![0u32; self.nnz()], vec![0f32; self.nnz()]);
        for r in 0..self.n_rows() {
            let (cols, vals) = self.row(r);
            for (c, v) in cols.iter().zip(vals) {
                let k = &mut next[*c as usize];
                col[*k as usize] = r as u32;
                val[*k as usize] = *v;
                *k += 1;
            }
        }
        Self {
            n_cols: self.n_rows(),
            row_start,
            col,
            val,
        }
    }
}

/// One dispatch's rows with their entries on the device.
struct Tile {
    rows: Range<usize>,
    params: wgpu::Buffer,
    row_start: wgpu::Buffer,
    col: wgpu::Buffer,
    val: wgpu::Buffer,
}

/// A matrix ready for repeated products y = M·x on a backend: on the GPU its
/// entries are uploaded once, in tiles of rows whose buffers fit one storage
/// binding; on the CPU the twin reads the host matrix.
pub struct SparseMatVec<'a> {
    matrix: &'a CompressedRows,
    gpu: Option<(&'a GpuContext, Vec<Tile>)>,
}

impl<'a> SparseMatVec<'a> {
    /// Prepares `matrix` on `backend` (uploads it to a GPU).
    pub fn new(backend: &'a Backend, matrix: &'a CompressedRows) -> Result<Self, GpuError> {
        match backend {
            Backend::Cpu { .. } => Ok(Self { matrix, gpu: None }),
            Backend::Gpu(ctx) => Self::upload(ctx, matrix, (ctx.max_binding_bytes() / 4) as usize),
        }
    }

    /// Uploads `matrix` in tiles of at most `tile_entries` entries (and rows).
    fn upload(
        ctx: &'a GpuContext,
        matrix: &'a CompressedRows,
        tile_entries: usize,
    ) -> Result<Self, GpuError> {
        use wgpu::BufferUsages as U;
        let mut tiles = Vec::new();
        let mut first = 0;
        while first < matrix.n_rows() {
            let base = matrix.row_start[first] as usize;
            let mut end = first;
            while end < matrix.n_rows()
                && end - first < tile_entries - 1
                && matrix.row_start[end + 1] as usize - base <= tile_entries
            {
                end += 1;
            }
            if end == first {
                return Err(GpuError::Execution(format!(
                    "row {first} of a sparse matrix has more entries than one storage binding holds ({tile_entries})"
                )));
            }
            let entries = base..matrix.row_start[end] as usize;
            let starts: Vec<u32> = matrix.row_start[first..=end]
                .iter()
                .map(|s| s - base as u32)
                .collect();
            let params = SparseMatVecParams {
                n_rows: (end - first) as u32,
                _pad: [0; 3],
            };
            tiles.push(Tile {
                rows: first..end,
                params: ctx.buffer("params", bytemuck::bytes_of(&params), U::UNIFORM),
                row_start: ctx.buffer("row_start", bytemuck::cast_slice(&starts), U::STORAGE),
                col: ctx.buffer(
                    "col",
                    bytemuck::cast_slice(&matrix.col[entries.clone()]),
                    U::STORAGE,
                ),
                val: ctx.buffer(
                    "val",
                    bytemuck::cast_slice(&matrix.val[entries]),
                    U::STORAGE,
                ),
            });
            first = end;
        }
        Ok(Self {
            matrix,
            gpu: Some((ctx, tiles)),
        })
    }

    /// y = M·x (one value per row); `x` has one value per column.
    pub fn mul(&self, x: &[f32]) -> Result<Vec<f32>, GpuError> {
        assert_eq!(x.len(), self.matrix.n_cols, "one x value per column");
        let Some((ctx, tiles)) = &self.gpu else {
            let m = self.matrix;
            let mut y = vec![0.0; m.n_rows()];
            let params = SparseMatVecParams {
                n_rows: m.n_rows() as u32,
                _pad: [0; 3],
            };
            cpu::sparse_mat_vec(&params, &m.row_start, &m.col, &m.val, x, &mut y);
            return Ok(y);
        };
        let pipeline = ctx.pipeline("sparse_mat_vec", SPARSE_MAT_VEC_WGSL);
        let x = ctx.buffer("x", bytemuck::cast_slice(x), wgpu::BufferUsages::STORAGE);
        let mut y = Vec::with_capacity(self.matrix.n_rows());
        for t in tiles {
            let n = t.rows.len();
            let out = ctx.output("y", (n * 4) as u64);
            y.extend(ctx.run_1d::<f32>(
                &pipeline,
                &[&t.params, &t.row_start, &t.col, &t.val, &x, &out],
                n as u32,
                &out,
                n,
            )?);
        }
        Ok(y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [[1, 0, 2], [0, 0, 0], [0, 3, 0]]
    fn small() -> CompressedRows {
        CompressedRows::from_rows(
            3,
            vec![
                (vec![0, 2], vec![1.0, 2.0]),
                (vec![], vec![]),
                (vec![1], vec![3.0]),
            ],
        )
        .unwrap()
    }

    #[test]
    fn cpu_product_and_transpose_by_hand() {
        let m = small();
        let cpu = Backend::Cpu { reason: None };
        let y = SparseMatVec::new(&cpu, &m)
            .unwrap()
            .mul(&[1.0, 10.0, 100.0])
            .unwrap();
        assert_eq!(y, vec![201.0, 0.0, 30.0]);
        let t = m.transpose();
        assert_eq!(t.row_start, vec![0, 1, 2, 3]);
        assert_eq!(
            (t.col.clone(), t.val.clone()),
            (vec![0, 2, 0], vec![1.0, 3.0, 2.0])
        );
        let yt = SparseMatVec::new(&cpu, &t)
            .unwrap()
            .mul(&[1.0, 10.0, 100.0])
            .unwrap();
        assert_eq!(yt, vec![1.0, 300.0, 2.0]);
        assert_eq!(t.transpose(), m);
    }

    #[test]
    fn refuses_bad_rows() {
        assert_eq!(
            CompressedRows::from_rows(2, vec![(vec![0, 2], vec![1.0, 1.0])]).unwrap_err(),
            SparseError::ColumnOutOfRange {
                row: 0,
                col: 2,
                n_cols: 2
            }
        );
        assert_eq!(
            CompressedRows::from_rows(2, vec![(vec![], vec![]), (vec![0], vec![])]).unwrap_err(),
            SparseError::RaggedRow {
                row: 1,
                len: 1,
                values: 0
            }
        );
    }

    /// Filled in waves, 600 rows (three waves, the last one short) of
    /// varied lengths are the matrix `from_rows` makes of them; a bad row in
    /// the third wave is named by its index.
    #[test]
    fn rows_filled_in_waves_are_the_rows() {
        let row = |r: usize, c: &mut Vec<u32>, v: &mut Vec<f32>| {
            for n in 0..(r * 7) % 13 {
                c.push(((r + 5 * n) % 50) as u32);
                v.push(r as f32 + 0.25 * n as f32);
            }
        };
        let rows: Vec<(Vec<u32>, Vec<f32>)> = (0..600)
            .map(|r| {
                let (mut c, mut v) = (Vec::new(), Vec::new());
                row(r, &mut c, &mut v);
                (c, v)
            })
            .collect();
        let waves = CompressedRows::from_row_fn(50, 600, row).unwrap();
        assert_eq!(waves, CompressedRows::from_rows(50, rows).unwrap());
        assert!(waves.nnz() > 2000);
        let bad = CompressedRows::from_row_fn(50, 600, |r, c, v| {
            row(r, c, v);
            if r == 555 {
                c.push(50);
                v.push(1.0);
            }
        });
        assert_eq!(
            bad.unwrap_err(),
            SparseError::ColumnOutOfRange {
                row: 555,
                col: 50,
                n_cols: 50
            }
        );
    }

    /// Tiles of 4 entries give the same product as the CPU twin.
    #[test]
    fn gpu_tiles_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("sparse_mat_vec_tiles") else {
            return;
        };
        let rows = (0..50u32)
            .map(|r| {
                let c: Vec<u32> = (0..r % 4).map(|k| (r * 7 + k * 3) % 11).collect();
                let v = c.iter().map(|c| 0.5 + *c as f32).collect();
                (c, v)
            })
            .collect();
        let m = CompressedRows::from_rows(11, rows).unwrap();
        let x: Vec<f32> = (0..11).map(|c| 1.0 / (1.0 + c as f32)).collect();
        let tiled = SparseMatVec::upload(&ctx, &m, 4).unwrap();
        assert!(tiled.gpu.as_ref().unwrap().1.len() > 10);
        let gpu = tiled.mul(&x).unwrap();
        let cpu = SparseMatVec::new(&Backend::Cpu { reason: None }, &m)
            .unwrap()
            .mul(&x)
            .unwrap();
        for (g, c) in gpu.iter().zip(&cpu) {
            assert!((g - c).abs() <= 1e-5 * c.abs().max(1.0), "{g} vs {c}");
        }
    }
}
