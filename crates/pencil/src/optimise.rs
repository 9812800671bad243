//! Spot-weight optimisation with non-negative weights: a weighted sum of
//! per-structure objectives on the dose d = A·w, minimised by projected
//! gradient descent with Barzilai–Borwein steps (w ← max(0, w − α∇f)).

use crate::influence::InfluenceMatrix;

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
}

impl Objective {
    /// Value and, added into `grad_dose`, its gradient with respect to d.
    fn evaluate(&self, d: &[f64], grad_dose: &mut [f64]) -> f64 {
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

fn objective(a: &InfluenceMatrix, objectives: &[Objective], w: &[f64]) -> (f64, Vec<f64>) {
    let d = a.dose(w);
    let mut gd = vec![0.0; d.len()];
    let f = objectives.iter().map(|o| o.evaluate(&d, &mut gd)).sum();
    (f, a.transpose_mul(&gd))
}

/// Equal weights, scaled so that the mean dose over `voxels` is `dose_gy`.
pub fn uniform_start(a: &InfluenceMatrix, voxels: &[u32], dose_gy: f64) -> Vec<f64> {
    let d = a.dose(&vec![1.0; a.n_spots()]);
    let mean = voxels.iter().map(|v| d[*v as usize]).sum::<f64>() / voxels.len().max(1) as f64;
    vec![if mean > 0.0 { dose_gy / mean } else { 0.0 }; a.n_spots()]
}

/// Minimises the objectives over w ≥ 0 from `start` for `iterations` steps.
pub fn optimise(
    a: &InfluenceMatrix,
    objectives: &[Objective],
    start: Vec<f64>,
    iterations: usize,
) -> Optimised {
    let mut w = start;
    let (mut f, mut g) = objective(a, objectives, &w);
    let mut history = Vec::with_capacity(iterations);
    // First step: a small fraction of the weights' scale along the gradient.
    let gnorm = g.iter().map(|x| x * x).sum::<f64>().sqrt();
    let wnorm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut alpha = if gnorm > 0.0 {
        0.01 * wnorm.max(1.0) / gnorm
    } else {
        0.0
    };
    for _ in 0..iterations {
        let mut step = alpha;
        let (w_new, f_new, g_new) = loop {
            let trial: Vec<f64> = w
                .iter()
                .zip(&g)
                .map(|(wi, gi)| (wi - step * gi).max(0.0))
                .collect();
            let (ft, gt) = objective(a, objectives, &trial);
            // Accept any decrease; otherwise halve (at most 30 times).
            if ft <= f || step < alpha * 1e-9 {
                break (trial, ft, gt);
            }
            step *= 0.5;
        };
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
    }
    Optimised {
        weights: w,
        history,
    }
}
