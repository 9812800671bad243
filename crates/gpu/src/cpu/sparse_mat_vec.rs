//! CPU twin of `shaders/sparse_mat_vec.wgsl`: same parameters, same buffers,
//! same f32 sums in storage order. The specification the GPU kernel is tested
//! against, and the optimiser's matrix–vector product on the CPU path.

use crate::kernels::SparseMatVecParams;
use rayon::prelude::*;

/// `y[r] = Σ val[k]·x[col[k]]` over `k` in `row_start[r]..row_start[r + 1]`,
/// for the `params.n_rows` rows of one tile.
pub fn sparse_mat_vec(
    params: &SparseMatVecParams,
    row_start: &[u32],
    col: &[u32],
    val: &[f32],
    x: &[f32],
    y: &mut [f32],
) {
    y[..params.n_rows as usize]
        .par_iter_mut()
        .enumerate()
        .with_min_len(256)
        .for_each(|(r, y)| {
            let k = row_start[r] as usize..row_start[r + 1] as usize;
            let mut sum = 0.0f32;
            for (c, v) in col[k.clone()].iter().zip(&val[k]) {
                sum += v * x[*c as usize];
            }
            *y = sum;
        });
}
