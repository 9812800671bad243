//! Weight optimisation (ion spots, photon control points) with non-negative
//! weights: a weighted sum of
//! per-structure objectives on the dose d = A·w (squared deviation, minimum,
//! maximum, mean and DVH objectives), minimised by projected gradient descent
//! with Barzilai–Borwein steps (w ← max(0, w − α∇f)). The products A·w and
//! Aᵀ·g run on the chosen backend (`sparse_mat_vec`: WGSL kernel or its CPU
//! twin, f32).

use crate::matrix::InfluenceMatrix;
use ferrodose_gpu::{Backend, CompressedRows, GpuError, SparseMatVec};
use rayon::prelude::*;

/// One objective on the voxels of a structure (indices into the dose grid).
#[derive(Debug, Clone)]
pub enum Objective {
    /// Mean squared deviation from `dose_gy` (targets).
    SquaredDeviation {
        voxels: Vec<u32>,
        dose_gy: f64,
        weight: f64,
    },
    /// Mean squared excess above `dose_gy` (organs at risk, target hot spots).
    MaxDose {
        voxels: Vec<u32>,
        dose_gy: f64,
        weight: f64,
    },
    /// Mean squared shortfall below `dose_gy` (target cold spots).
    MinDose {
        voxels: Vec<u32>,
        dose_gy: f64,
        weight: f64,
    },
    /// Squared excess of the structure's mean dose above `dose_gy`.
    MeanDose {
        voxels: Vec<u32>,
        dose_gy: f64,
        weight: f64,
    },
    /// At most `max_volume_pct` % of the structure above `dose_gy`: the voxels
    /// above `dose_gy` but below D(max_volume_pct), the dose of the hottest
    /// allowed volume, are pulled down to `dose_gy` (mean squared excess; Wu
    /// and Mohan, Med Phys 27:701, 2000).
    Dvh {
        voxels: Vec<u32>,
        dose_gy: f64,
        max_volume_pct: f64,
        weight: f64,
    },
    /// `objectives` on doses interpolated at points between voxels: point
    /// p's dose is Σ wᵢ·d[vᵢ] over its eight stencil voxels (trilinear
    /// weights), so that a target's objectives read the dose where its
    /// evaluation reads it (interpolated onto the CT grid). The inner
    /// objectives' voxel indices number the points.
    OnPoints {
        /// Eight stencil voxels (dose-grid indices) per point.
        voxels: Vec<u32>,
        /// Their weights, eight per point.
        weights: Vec<f64>,
        objectives: Vec<Objective>,
    },
}

impl Objective {
    /// The voxels the objective reads.
    fn voxels(&self) -> &[u32] {
        match self {
            Self::SquaredDeviation { voxels, .. }
            | Self::MaxDose { voxels, .. }
            | Self::MinDose { voxels, .. }
            | Self::MeanDose { voxels, .. }
            | Self::Dvh { voxels, .. }
            | Self::OnPoints { voxels, .. } => voxels,
        }
    }

    /// The voxels the objective reads, to renumber them.
    fn voxels_mut(&mut self) -> &mut Vec<u32> {
        match self {
            Self::SquaredDeviation { voxels, .. }
            | Self::MaxDose { voxels, .. }
            | Self::MinDose { voxels, .. }
            | Self::MeanDose { voxels, .. }
            | Self::Dvh { voxels, .. }
            | Self::OnPoints { voxels, .. } => voxels,
        }
    }

    /// Value and, added into `grad_dose`, its gradient with respect to d.
    fn evaluate(&self, d: &[f64], grad_dose: &mut [f64]) -> f64 {
        match self {
            Self::OnPoints {
                voxels,
                weights,
                objectives,
            } => {
                let stencils = || voxels.chunks_exact(8).zip(weights.chunks_exact(8));
                let points: Vec<f64> = stencils()
                    .map(|(v, w)| v.iter().zip(w).map(|(v, w)| w * d[*v as usize]).sum())
                    .collect();
                let mut grad_points = vec![0.0; points.len()];
                let f = objectives
                    .iter()
                    .map(|o| o.evaluate(&points, &mut grad_points))
                    .sum();
                for ((v, w), g) in stencils().zip(grad_points) {
                    for (v, w) in v.iter().zip(w) {
                        grad_dose[*v as usize] += w * g;
                    }
                }
                return f;
            }
            Self::MeanDose {
                voxels,
                dose_gy,
                weight,
            } => {
                let n = voxels.len().max(1) as f64;
                let mean = voxels.iter().map(|v| d[*v as usize]).sum::<f64>() / n;
                let excess = mean - dose_gy;
                if excess <= 0.0 {
                    return 0.0;
                }
                for v in voxels {
                    grad_dose[*v as usize] += weight * 2.0 * excess / n;
                }
                return weight * excess * excess;
            }
            Self::Dvh {
                voxels,
                dose_gy,
                max_volume_pct,
                weight,
            } => {
                let mut doses: Vec<f64> = voxels.iter().map(|v| d[*v as usize]).collect();
                doses.sort_by(|a, b| b.total_cmp(a));
                let allowed = ((max_volume_pct / 100.0) * doses.len() as f64).floor() as usize;
                let d_v = doses.get(allowed).copied().unwrap_or(0.0);
                if d_v <= *dose_gy {
                    return 0.0;
                }
                let scale = weight / voxels.len().max(1) as f64;
                let mut f = 0.0;
                for v in voxels {
                    let x = d[*v as usize];
                    if x > *dose_gy && x <= d_v {
                        let diff = x - dose_gy;
                        f += scale * diff * diff;
                        grad_dose[*v as usize] += 2.0 * scale * diff;
                    }
                }
                return f;
            }
            _ => {}
        }
        let (voxels, target, weight, kind) = match self {
            Self::SquaredDeviation {
                voxels,
                dose_gy,
                weight,
            } => (voxels, *dose_gy, *weight, 0),
            Self::MaxDose {
                voxels,
                dose_gy,
                weight,
            } => (voxels, *dose_gy, *weight, 1),
            Self::MinDose {
                voxels,
                dose_gy,
                weight,
            } => (voxels, *dose_gy, *weight, 2),
            Self::MeanDose { .. } | Self::Dvh { .. } | Self::OnPoints { .. } => {
                unreachable!("handled above")
            }
        };
        let scale = weight / voxels.len().max(1) as f64;
        let mut f = 0.0;
        for &v in voxels {
            let diff = d[v as usize] - target;
            let active = match kind {
                0 => true,
                1 => diff > 0.0,
                _ => diff < 0.0,
            };
            if active {
                f += scale * diff * diff;
                grad_dose[v as usize] += 2.0 * scale * diff;
            }
        }
        f
    }
}

/// The result of an optimisation.
#[derive(Debug, Clone)]
pub struct Optimised {
    pub weights: Vec<f64>,
    /// Objective value after each iteration.
    pub history: Vec<f64>,
}

/// The optimiser's two products on a backend, on the rows of A that the
/// objectives read (no other voxel's dose enters the objective or its
/// gradient): d = A·w = F·w + P·(H·w) and g = Aᵀ·x = Fᵀ·x + Hᵀ·(Pᵀ·x), each
/// factor a `sparse_mat_vec` kernel (f32) on its own compressed rows.
struct Products<'a> {
    forward: SparseMatVec<'a>,
    backward: SparseMatVec<'a>,
    /// H, P, Pᵀ and Hᵀ, where the matrix has a coarse part.
    coarse: Option<[SparseMatVec<'a>; 4]>,
}

impl Products<'_> {
    fn dose(&self, w: &[f64]) -> Result<Vec<f64>, GpuError> {
        let w: Vec<f32> = w.iter().map(|x| *x as f32).collect();
        let mut d = self.forward.mul(&w)?;
        if let Some([h, p, _, _]) = &self.coarse {
            add(&mut d, &p.mul(&h.mul(&w)?)?);
        }
        Ok(d.into_iter().map(f64::from).collect())
    }

    fn transpose_mul(&self, x: &[f64]) -> Result<Vec<f64>, GpuError> {
        let x: Vec<f32> = x.iter().map(|x| *x as f32).collect();
        let mut g = self.backward.mul(&x)?;
        if let Some([_, _, pt, ht]) = &self.coarse {
            add(&mut g, &ht.mul(&pt.mul(&x)?)?);
        }
        Ok(g.into_iter().map(f64::from).collect())
    }
}

/// a += b, element by element.
fn add(a: &mut [f32], b: &[f32]) {
    for (a, b) in a.iter_mut().zip(b) {
        *a += b;
    }
}

/// The matrices of the optimiser's products, restricted to the rows its
/// objectives read (numbered in ascending voxel order): Fᵀ, and for a coarse
/// part Hᵀ and P over the nodes those rows are interpolated from (numbered
/// in ascending node order).
struct Restricted {
    by_column: CompressedRows,
    coarse: Option<(CompressedRows, CompressedRows)>,
}

/// Mᵀ (in compressed rows by column) restricted to the rows `row_of` maps
/// (u32::MAX: dropped), renumbered.
fn restrict_rows(m: &CompressedRows, row_of: &[u32], n_rows: usize) -> CompressedRows {
    let columns = (0..m.n_rows())
        .into_par_iter()
        .map(|s| {
            let (rows, vals) = m.row(s);
            rows.iter()
                .zip(vals)
                .filter(|(r, _)| row_of[**r as usize] != u32::MAX)
                .map(|(r, v)| (row_of[*r as usize], *v))
                .unzip()
        })
        .collect();
    CompressedRows::from_rows(n_rows, columns).expect("a subset of a valid matrix is valid")
}

/// The numbering of the sorted, distinct `items` among `n` (u32::MAX for
/// the others).
fn numbering(items: &[u32], n: usize) -> Vec<u32> {
    let mut number = vec![u32::MAX; n];
    for (r, v) in items.iter().enumerate() {
        number[*v as usize] = r as u32;
    }
    number
}

/// A restricted to the voxels the objectives read, and the objectives with
/// their voxels renumbered to those rows.
fn restrict(a: &InfluenceMatrix, objectives: &[Objective]) -> (Restricted, Vec<Objective>) {
    let mut voxels: Vec<u32> = objective_voxels(objectives).collect();
    voxels.sort_unstable();
    voxels.dedup();
    let row_of = numbering(&voxels, a.n_voxels());
    let by_column = restrict_rows(&a.by_column, &row_of, voxels.len());
    let coarse = a.coarse.as_ref().map(|c| {
        let p = &c.interpolation;
        let mut nodes: Vec<u32> = voxels
            .iter()
            .flat_map(|v| p.row(*v as usize).0.iter().copied())
            .collect();
        nodes.sort_unstable();
        nodes.dedup();
        let node_of = numbering(&nodes, p.n_cols);
        let rows = voxels
            .iter()
            .map(|v| {
                let (n, w) = p.row(*v as usize);
                (n.iter().map(|n| node_of[*n as usize]).collect(), w.to_vec())
            })
            .collect();
        let p = CompressedRows::from_rows(nodes.len(), rows).expect("rows of a valid matrix");
        (restrict_rows(&c.by_column, &node_of, nodes.len()), p)
    });
    let renumbered = objectives
        .iter()
        .map(|o| {
            let mut o = o.clone();
            for v in o.voxels_mut() {
                *v = row_of[*v as usize];
            }
            o
        })
        .collect();
    (Restricted { by_column, coarse }, renumbered)
}

/// The objectives' value at dose `d` and their gradient with respect to d.
fn value(objectives: &[Objective], d: &[f64]) -> (f64, Vec<f64>) {
    let mut gd = vec![0.0; d.len()];
    let f = objectives.iter().map(|o| o.evaluate(d, &mut gd)).sum();
    (f, gd)
}

/// Equal weights, scaled so that the mean dose over `voxels` is `dose_gy`.
pub fn uniform_start(a: &InfluenceMatrix, voxels: &[u32], dose_gy: f64) -> Vec<f64> {
    let d = a.dose(&vec![1.0; a.n_columns()]);
    let mean = voxels.iter().map(|v| d[*v as usize]).sum::<f64>() / voxels.len().max(1) as f64;
    vec![if mean > 0.0 { dose_gy / mean } else { 0.0 }; a.n_columns()]
}

/// Every voxel an objective looks at (for the rows the influence matrix needs).
pub fn objective_voxels(objectives: &[Objective]) -> impl Iterator<Item = u32> + '_ {
    objectives.iter().flat_map(|o| o.voxels().iter().copied())
}

/// Minimises the objectives over w ≥ 0 from `start` for `iterations` steps,
/// with the matrix–vector products on `backend` over the rows the objectives
/// read (uploaded once to a GPU); `on_iteration` is called with the number of steps done after
/// each (for a progress bar).
pub fn optimise(
    a: &InfluenceMatrix,
    backend: &Backend,
    objectives: &[Objective],
    start: Vec<f64>,
    iterations: usize,
    on_iteration: &dyn Fn(usize),
) -> Result<Optimised, GpuError> {
    let (restricted, objectives) = restrict(a, objectives);
    let objectives = &objectives[..];
    let by_voxel = restricted.by_column.transpose();
    let coarse = restricted
        .coarse
        .as_ref()
        .map(|(h_t, p)| [h_t.transpose(), p.transpose()]);
    let products = Products {
        forward: SparseMatVec::new(backend, &by_voxel)?,
        backward: SparseMatVec::new(backend, &restricted.by_column)?,
        coarse: match (&restricted.coarse, &coarse) {
            (Some((h_t, p)), Some([h, p_t])) => Some([
                SparseMatVec::new(backend, h)?,
                SparseMatVec::new(backend, p)?,
                SparseMatVec::new(backend, p_t)?,
                SparseMatVec::new(backend, h_t)?,
            ]),
            _ => None,
        },
    };
    let mut w = start;
    let (mut f, gd) = value(objectives, &products.dose(&w)?);
    let mut g = products.transpose_mul(&gd)?;
    let mut history = Vec::with_capacity(iterations);
    // First step: a small fraction of the weights' scale along the gradient.
    let gnorm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
    let wnorm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut alpha = if gnorm > 0.0 {
        0.01 * wnorm.max(1.0) / gnorm
    } else {
        0.0
    };
    for done in 1..=iterations {
        let mut step = alpha;
        // The gradient is computed only at the accepted trial point.
        let (w_new, f_new, gd_new) = loop {
            let trial: Vec<f64> = w
                .iter()
                .zip(&g)
                .map(|(wi, gi)| (wi - step * gi).max(0.0))
                .collect();
            let (ft, gdt) = value(objectives, &products.dose(&trial)?);
            // Accept any decrease; otherwise halve (at most 30 times).
            if ft <= f || step < alpha * 1e-9 {
                break (trial, ft, gdt);
            }
            step *= 0.5;
        };
        let g_new = products.transpose_mul(&gd_new)?;
        // Barzilai–Borwein step length for the next iteration.
        let (mut sy, mut ss) = (0.0, 0.0);
        for i in 0..w.len() {
            let s = w_new[i] - w[i];
            sy += s * (g_new[i] - g[i]);
            ss += s * s;
        }
        if sy > 0.0 {
            alpha = ss / sy;
        }
        w = w_new;
        f = f_new;
        g = g_new;
        history.push(f);
        on_iteration(done);
    }
    Ok(Optimised {
        weights: w,
        history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CoarsePart;

    /// By hand on doses 10, 20, 30, 40 Gy: mean 25 over a 20 Gy limit gives
    /// 5² = 25 and ∂f/∂dᵢ = 2·5/4; "at most 25 % above 15 Gy" leaves the
    /// hottest voxel (40) alone and pulls 20 and 30 towards 15:
    /// (5² + 15²)/4 = 62.5.
    #[test]
    fn mean_and_dvh_objectives_by_hand() {
        let d = [10.0, 20.0, 30.0, 40.0];
        let voxels = vec![0, 1, 2, 3];
        let mean = Objective::MeanDose {
            voxels: voxels.clone(),
            dose_gy: 20.0,
            weight: 1.0,
        };
        let mut g = vec![0.0; 4];
        assert_eq!(mean.evaluate(&d, &mut g), 25.0);
        assert_eq!(g, vec![2.5; 4]);
        let dvh = Objective::Dvh {
            voxels,
            dose_gy: 15.0,
            max_volume_pct: 25.0,
            weight: 1.0,
        };
        let mut g = vec![0.0; 4];
        assert_eq!(dvh.evaluate(&d, &mut g), 62.5);
        assert_eq!(g, vec![0.0, 2.5, 7.5, 0.0]);
        // Met when at most 25 % exceed the dose.
        assert_eq!(dvh.evaluate(&[10.0, 12.0, 14.0, 40.0], &mut g), 0.0);
    }

    /// Objectives on interpolated points: by hand on doses 10, 20, 30, 40 Gy,
    /// point 0 halfway between voxels 0 and 1 (15 Gy) and point 1 a quarter
    /// of the way from voxel 2 to 3 (32.5 Gy), under a 20 Gy squared
    /// deviation: ((−5)² + 12.5²)/2 = 90.625; ∂f/∂d is the points' gradient
    /// (−5, 12.5) spread by the weights. The stencil voxels are the rows read.
    #[test]
    fn objectives_on_points_interpolate_and_spread_the_gradient() {
        let d = [10.0, 20.0, 30.0, 40.0];
        let mut weights = vec![0.0; 16];
        weights[..2].copy_from_slice(&[0.5, 0.5]);
        weights[8..10].copy_from_slice(&[0.75, 0.25]);
        let o = Objective::OnPoints {
            voxels: [[0, 1], [2, 3]]
                .iter()
                .flat_map(|pair| (0..8).map(move |k| pair[k.min(1)]))
                .collect(),
            weights,
            objectives: vec![Objective::SquaredDeviation {
                voxels: vec![0, 1],
                dose_gy: 20.0,
                weight: 1.0,
            }],
        };
        let mut g = vec![0.0; 4];
        assert_eq!(o.evaluate(&d, &mut g), 90.625);
        assert_eq!(g, vec![-2.5, -2.5, 9.375, 3.125]);
        let mut rows: Vec<u32> = objective_voxels(std::slice::from_ref(&o)).collect();
        rows.dedup();
        assert_eq!(rows, vec![0, 1, 2, 3]);
    }

    /// The optimiser reads only the rows its objectives look at: voxels 0
    /// and 2 of three, renumbered 0 and 1; a matrix without voxel 1's
    /// entries gives bit-for-bit the same weights.
    #[test]
    fn products_use_the_objectives_rows_only() {
        let a = InfluenceMatrix::from_sparse_columns(
            3,
            vec![(vec![0, 2], vec![1.0, 2.0]), (vec![1, 2], vec![3.0, 4.0])],
        )
        .unwrap();
        let objectives = [Objective::SquaredDeviation {
            voxels: vec![2, 0],
            dose_gy: 2.0,
            weight: 1.0,
        }];
        let (restricted, renumbered) = restrict(&a, &objectives);
        let by_column = restricted.by_column;
        assert_eq!(by_column.row(0), (&[0, 1][..], &[1.0, 2.0][..]));
        assert_eq!(by_column.row(1), (&[1][..], &[4.0][..]));
        assert_eq!(renumbered[0].voxels(), &[1, 0]);
        let without_voxel_1 = InfluenceMatrix::from_sparse_columns(
            3,
            vec![(vec![0, 2], vec![1.0, 2.0]), (vec![2], vec![4.0])],
        )
        .unwrap();
        let cpu = Backend::Cpu { reason: None };
        let run = |m: &InfluenceMatrix| {
            optimise(m, &cpu, &objectives, vec![0.1, 0.1], 20, &|_| {})
                .unwrap()
                .weights
        };
        assert_eq!(run(&a), run(&without_voxel_1));
    }

    /// A = F + P·H (`CoarsePart`): F = [[1, 0], [0, 2], [0, 0]], H over two
    /// nodes = [[4, 0], [2, 6]] (by column: column 0 reaches node 0 with 4,
    /// column 1 nodes 0 and 1 with 2 and 6), P interpolates voxel 0 from
    /// node 0, voxel 2 halfway between the nodes, voxel 1 not at all. By
    /// hand A = [[5, 2], [0, 2], [2, 4]]; `dose` gives A·w, and the optimiser
    /// (on both backends where a GPU is found) gives the weights it gives for
    /// the same A held whole.
    #[test]
    fn coarse_part_adds_p_times_h() {
        let f = InfluenceMatrix::from_sparse_columns(
            3,
            vec![(vec![0], vec![1.0]), (vec![1], vec![2.0])],
        )
        .unwrap();
        let coarse = CoarsePart {
            by_column: CompressedRows::from_rows(
                2,
                vec![(vec![0], vec![4.0]), (vec![0, 1], vec![2.0, 6.0])],
            )
            .unwrap(),
            interpolation: CompressedRows::from_rows(
                2,
                vec![
                    (vec![0], vec![1.0]),
                    (vec![], vec![]),
                    (vec![0, 1], vec![0.5, 0.5]),
                ],
            )
            .unwrap(),
        };
        let a = f.clone().with_coarse(coarse.clone()).unwrap();
        assert_eq!(a.dose(&[1.0, 10.0]), vec![25.0, 20.0, 42.0]);
        let whole = InfluenceMatrix::from_sparse_columns(
            3,
            vec![
                (vec![0, 2], vec![5.0, 2.0]),
                (vec![0, 1, 2], vec![2.0, 2.0, 4.0]),
            ],
        )
        .unwrap();
        let objectives = [Objective::SquaredDeviation {
            voxels: vec![0, 1, 2],
            dose_gy: 3.0,
            weight: 1.0,
        }];
        let mut backends = vec![Backend::Cpu { reason: None }];
        if let Some(ctx) = ferrodose_gpu::GpuContext::for_tests("coarse_part_adds_p_times_h") {
            backends.push(Backend::Gpu(Box::new(ctx)));
        }
        for backend in &backends {
            let run = |m: &InfluenceMatrix| {
                optimise(m, backend, &objectives, vec![0.1, 0.1], 30, &|_| {})
                    .unwrap()
                    .weights
            };
            let (split, held) = (run(&a), run(&whole));
            for (x, y) in split.iter().zip(&held) {
                assert!(
                    (x - y).abs() <= 1e-6 * y.abs().max(1.0),
                    "{split:?} vs {held:?}"
                );
            }
        }
        let mut wrong = coarse;
        wrong.interpolation = CompressedRows::from_rows(2, vec![(vec![0], vec![1.0])]).unwrap();
        assert!(f.with_coarse(wrong).is_err(), "P needs a row per voxel");
    }
}
