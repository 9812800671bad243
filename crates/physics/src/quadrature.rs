//! Numerical integration.

/// 5-point Gauss–Legendre nodes and weights on [−1, 1].
const GL5: [(f64, f64); 5] = [
    (0.0, 0.568_888_888_888_889),
    (-0.538_469_310_105_683, 0.478_628_670_499_366),
    (0.538_469_310_105_683, 0.478_628_670_499_366),
    (-0.906_179_845_938_664, 0.236_926_885_056_189),
    (0.906_179_845_938_664, 0.236_926_885_056_189),
];

/// ∫ f over [lo, hi] by composite 5-point Gauss–Legendre on `intervals` equal parts
/// (exact for polynomials up to degree 9 on each part).
pub fn integrate(lo: f64, hi: f64, intervals: usize, f: impl Fn(f64) -> f64) -> f64 {
    let [v] = integrate_n(lo, hi, intervals, |x| [f(x)]);
    v
}

/// [`integrate`] of N functions at once, evaluated together at each node
/// (for integrands that share costly terms).
pub fn integrate_n<const N: usize>(
    lo: f64,
    hi: f64,
    intervals: usize,
    f: impl Fn(f64) -> [f64; N],
) -> [f64; N] {
    let h = (hi - lo) / intervals as f64;
    let mut total = [0.0; N];
    for k in 0..intervals {
        let mid = lo + (k as f64 + 0.5) * h;
        let mut part = [0.0; N];
        for (x, w) in GL5 {
            for (p, v) in part.iter_mut().zip(f(mid + 0.5 * h * x)) {
                *p += w * v;
            }
        }
        for (t, p) in total.iter_mut().zip(part) {
            *t += p * 0.5 * h;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    #[test]
    fn exact_for_degree_nine_and_close_for_exp() {
        let p = super::integrate(-1.0, 2.0, 1, |x| x.powi(9) - 3.0 * x.powi(4));
        assert!((p - ((2f64.powi(10) - 1.0) / 10.0 - 3.0 * (32.0 + 1.0) / 5.0)).abs() < 1e-10);
        let e = super::integrate(0.0, 1.0, 4, f64::exp);
        assert!((e - (1f64.exp() - 1.0)).abs() < 1e-12);
    }
}
