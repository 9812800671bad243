//! The piecewise-linear lookup kernel (CT calibration curves).

use crate::context::{GpuContext, GpuError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};

/// Uniform parameters of `piecewise_linear.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct PiecewiseLinearParams {
    pub n_values: u32,
    pub n_knots: u32,
    pub _pad: [u32; 2],
}

const PIECEWISE_LINEAR_WGSL: &str = include_str!("../../../../shaders/piecewise_linear.wgsl");

/// Why a piecewise-linear table is refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum TableError {
    #[error("a piecewise-linear table needs at least 2 knots, got {0}")]
    TooFewKnots(usize),
    #[error("knot x values must be finite and strictly increasing (knot {0})")]
    NotIncreasing(usize),
}

/// A piecewise-linear function through knots `(x, y)`, constant beyond its ends.
#[derive(Debug, Clone)]
pub struct PiecewiseLinear {
    knots: Vec<[f32; 2]>,
}

impl PiecewiseLinear {
    /// Checks that there are ≥ 2 knots with strictly increasing, finite x.
    pub fn new(knots: Vec<[f32; 2]>) -> Result<Self, TableError> {
        if knots.len() < 2 {
            return Err(TableError::TooFewKnots(knots.len()));
        }
        for (n, w) in knots.windows(2).enumerate() {
            if !(w[0][0].is_finite() && w[1][0].is_finite() && w[1][0] > w[0][0]) {
                return Err(TableError::NotIncreasing(n + 1));
            }
        }
        Ok(Self { knots })
    }

    /// `f(v)` for every value, on the chosen backend. GPU inputs larger than the
    /// device's storage binding limit are processed in tiles.
    pub fn apply(&self, backend: &Backend, values: &[f32]) -> Result<Vec<f32>, GpuError> {
        match backend {
            Backend::Cpu { .. } => {
                let mut out = vec![0.0; values.len()];
                cpu::piecewise_linear(&self.params(values.len()), &self.knots, values, &mut out);
                Ok(out)
            }
            Backend::Gpu(ctx) => {
                let tile = (ctx.max_binding_bytes() / 4).min(u64::from(u32::MAX)) as usize;
                self.apply_gpu_tiled(ctx, values, tile)
            }
        }
    }

    fn apply_gpu_tiled(
        &self,
        ctx: &GpuContext,
        values: &[f32],
        tile: usize,
    ) -> Result<Vec<f32>, GpuError> {
        let mut out = Vec::with_capacity(values.len());
        for chunk in values.chunks(tile.max(1)) {
            out.extend(self.apply_gpu(ctx, chunk)?);
        }
        Ok(out)
    }

    fn params(&self, n: usize) -> PiecewiseLinearParams {
        PiecewiseLinearParams {
            n_values: n as u32,
            n_knots: self.knots.len() as u32,
            _pad: [0; 2],
        }
    }

    fn apply_gpu(&self, ctx: &GpuContext, values: &[f32]) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline("piecewise_linear", PIECEWISE_LINEAR_WGSL);
        let params = ctx.buffer(
            "params",
            bytemuck::bytes_of(&self.params(values.len())),
            U::UNIFORM,
        );
        let knots = ctx.buffer("knots", bytemuck::cast_slice(&self.knots), U::STORAGE);
        let input = ctx.buffer("values", bytemuck::cast_slice(values), U::STORAGE);
        let out = ctx.output("out", (values.len() * 4) as u64);
        ctx.run_1d::<f32>(
            &pipeline,
            &[&params, &knots, &input, &out],
            values.len() as u32,
            &out,
            values.len(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_tables() {
        assert_eq!(
            PiecewiseLinear::new(vec![[0.0, 1.0]]).unwrap_err(),
            TableError::TooFewKnots(1)
        );
        assert_eq!(
            PiecewiseLinear::new(vec![[0.0, 1.0], [2.0, 1.0], [2.0, 3.0]]).unwrap_err(),
            TableError::NotIncreasing(2)
        );
    }

    #[test]
    fn cpu_interpolates_and_clamps() {
        let f = PiecewiseLinear::new(vec![[-1000.0, 0.0], [0.0, 1.0], [1000.0, 1.5]]).unwrap();
        let out = f
            .apply(
                &Backend::Cpu { reason: None },
                &[-2000.0, -500.0, 0.0, 500.0, 3000.0],
            )
            .unwrap();
        assert_eq!(out, vec![0.0, 0.5, 1.0, 1.25, 1.5]);
    }

    /// Tiles smaller than the input give the same result as one dispatch.
    #[test]
    fn gpu_tiling_matches_cpu() {
        let Some(ctx) = GpuContext::for_tests("gpu_tiling_matches_cpu") else {
            return;
        };
        let f = PiecewiseLinear::new(vec![[0.0, 0.0], [10.0, 5.0], [20.0, -5.0]]).unwrap();
        let values: Vec<f32> = (0..10_000).map(|n| n as f32 * 0.0025).collect();
        let gpu = f.apply_gpu_tiled(&ctx, &values, 777).unwrap();
        let cpu = f.apply(&Backend::Cpu { reason: None }, &values).unwrap();
        for (a, b) in gpu.iter().zip(&cpu) {
            assert!((a - b).abs() <= 1e-5, "{a} vs {b}");
        }
    }
}
