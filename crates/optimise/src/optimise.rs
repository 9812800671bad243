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
}

impl Objective {
    /// The voxels the objective reads.
    fn voxels(&self) -> &[u32] {
        match self {
            Self::SquaredDeviation { voxels, .. }
            | Self::MaxDose { voxels, .. }
            | Self::MinDose { voxels, .. }
            | Self::MeanDose { voxels, .. }
            | Self::Dvh { voxels, .. } => voxels,
        }
    }

    /// The voxels the objective reads, to renumber them.
    fn voxels_mut(&mut self) -> &mut Vec<u32> {
        match self {
            Self::SquaredDeviation { voxels, .. }
            | Self::MaxDose { voxels, .. }
            | Self::MinDose { voxels, .. }
            | Self::MeanDose { voxels, .. }
            | Self::Dvh { voxels, .. } => voxels,
        }
    }

    /// Value and, added into `grad_dose`, its gradient with respect to d.
    fn evaluate(&self, d: &[f64], grad_dose: &mut [f64]) -> f64 {
        match self {
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
            Self::MeanDose { .. } | Self::Dvh { .. } => unreachable!("handled above"),
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
/// gradient): d = A·w with A in compressed rows by objective voxel, and
/// g = Aᵀ·x with its transpose; both are `sparse_mat_vec` kernels (f32).
struct Products<'a> {
    forward: SparseMatVec<'a>,
    backward: SparseMatVec<'a>,
}

impl Products<'_> {
    fn dose(&self, w: &[f64]) -> Result<Vec<f64>, GpuError> {
        let w: Vec<f32> = w.iter().map(|x| *x as f32).collect();
        Ok(self.forward.mul(&w)?.into_iter().map(f64::from).collect())
    }

    fn transpose_mul(&self, x: &[f64]) -> Result<Vec<f64>, GpuError> {
        let x: Vec<f32> = x.iter().map(|x| *x as f32).collect();
        Ok(self.backward.mul(&x)?.into_iter().map(f64::from).collect())
    }
}

/// A restricted to the voxels the objectives read: (A by column over those
/// rows, numbered in ascending voxel order, and the objectives with their
/// voxels renumbered to those rows).
fn restrict(a: &InfluenceMatrix, objectives: &[Objective]) -> (CompressedRows, Vec<Objective>) {
    let mut voxels: Vec<u32> = objective_voxels(objectives).collect();
    voxels.sort_unstable();
    voxels.dedup();
    let mut row_of = vec![u32::MAX; a.n_voxels()];
    for (r, v) in voxels.iter().enumerate() {
        row_of[*v as usize] = r as u32;
    }
    let columns = (0..a.n_columns())
        .into_par_iter()
        .map(|s| {
            let (vox, dose) = a.column(s);
            vox.iter()
                .zip(dose)
                .filter(|(v, _)| row_of[**v as usize] != u32::MAX)
                .map(|(v, d)| (row_of[*v as usize], *d))
                .unzip()
        })
        .collect();
    let by_column = CompressedRows::from_rows(voxels.len(), columns)
        .expect("a subset of a valid matrix is valid");
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
    (by_column, renumbered)
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
    let (by_column, objectives) = restrict(a, objectives);
    let objectives = &objectives[..];
    let by_voxel = by_column.transpose();
    let products = Products {
        forward: SparseMatVec::new(backend, &by_voxel)?,
        backward: SparseMatVec::new(backend, &by_column)?,
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
        let (by_column, renumbered) = restrict(&a, &objectives);
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
}
