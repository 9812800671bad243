//! CPU twin of `shaders/piecewise_linear.wgsl`: same parameters, same buffers,
//! same arithmetic (f32). This is the specification the GPU kernel is tested against.

use crate::kernels::PiecewiseLinearParams;
use rayon::prelude::*;

/// `out[i] = f(values[i])` for the piecewise-linear `f` through `knots` (x ascending).
pub fn piecewise_linear(
    params: &PiecewiseLinearParams,
    knots: &[[f32; 2]],
    values: &[f32],
    out: &mut [f32],
) {
    let n = params.n_values as usize;
    out[..n]
        .par_iter_mut()
        .zip(&values[..n])
        .for_each(|(o, &x)| *o = lookup(params.n_knots as usize, knots, x));
}

fn lookup(n: usize, knots: &[[f32; 2]], x: f32) -> f32 {
    if x <= knots[0][0] {
        return knots[0][1];
    }
    if x >= knots[n - 1][0] {
        return knots[n - 1][1];
    }
    let (mut lo, mut hi) = (0usize, n - 1);
    while hi - lo > 1 {
        let mid = (lo + hi) / 2;
        if knots[mid][0] <= x {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (a, b) = (knots[lo], knots[hi]);
    let t = (x - a[0]) / (b[0] - a[0]);
    a[1] + t * (b[1] - a[1])
}
