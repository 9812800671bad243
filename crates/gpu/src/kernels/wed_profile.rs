//! The ray-casting kernel (`shaders/wed_profile.wgsl`): water-equivalent
//! depth profiles along many rays through one scaling volume.

use crate::context::{GpuContext, GpuError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};

const WED_PROFILE_WGSL: &str = include_str!("../../../../shaders/wed_profile.wgsl");

/// Uniform parameters of `wed_profile.wgsl`: the volume's shape (i fastest)
/// and the number of rays.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct WedProfileParams {
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub n_rays: u32,
}

/// One ray (48 bytes) in index coordinates, where voxel (i, j, k) spans
/// [i, i + 1) × [j, j + 1) × [k, k + 1).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq)]
pub struct WedRay {
    /// Entry point into the volume; w = sample step (mm).
    pub entry: [f32; 4],
    /// Index coordinates per mm along the ray; w unused.
    pub dir: [f32; 4],
    /// First sample of the ray in the output.
    pub offset: u32,
    /// Samples, at 0, step, 2·step, … mm from the entry point.
    pub n_samples: u32,
    pub _pad: [u32; 2],
}

impl WedRay {
    /// A ray entering at index coordinates `entry`, moving `dir` index units
    /// per mm, with `n_samples` samples `step_mm` apart (offset set later).
    pub fn new(entry: [f64; 3], dir: [f64; 3], step_mm: f64, n_samples: usize) -> Self {
        Self {
            entry: [
                entry[0] as f32,
                entry[1] as f32,
                entry[2] as f32,
                step_mm as f32,
            ],
            dir: [dir[0] as f32, dir[1] as f32, dir[2] as f32, 0.0],
            offset: 0,
            n_samples: n_samples as u32,
            _pad: [0; 2],
        }
    }
}

/// Rays through a volume of `shape` (i fastest), their samples laid out one
/// ray after another in ray order.
#[derive(Debug, Clone)]
pub struct WedProfiles {
    pub params: WedProfileParams,
    pub rays: Vec<WedRay>,
}

impl WedProfiles {
    /// The rays, with their samples placed one after another.
    pub fn new(shape: [usize; 3], mut rays: Vec<WedRay>) -> Self {
        let mut offset = 0u32;
        for r in &mut rays {
            r.offset = offset;
            offset += r.n_samples;
        }
        Self {
            params: WedProfileParams {
                nx: shape[0] as u32,
                ny: shape[1] as u32,
                nz: shape[2] as u32,
                n_rays: rays.len() as u32,
            },
            rays,
        }
    }

    /// Samples of all rays.
    pub fn n_samples(&self) -> usize {
        self.rays.iter().map(|r| r.n_samples as usize).sum()
    }

    /// WED (mm) of every sample through `scale` (one value per voxel), on
    /// `backend`. On a GPU the rays run in groups whose samples fit one
    /// storage binding; a volume larger than one binding is refused.
    pub fn trace(&self, backend: &Backend, scale: &[f32]) -> Result<Vec<f32>, GpuError> {
        let p = &self.params;
        assert_eq!(
            scale.len(),
            (p.nx * p.ny * p.nz) as usize,
            "one scale value per voxel"
        );
        match backend {
            Backend::Cpu { .. } => {
                let mut out = vec![0.0; self.n_samples()];
                cpu::wed_profile(p, &self.rays, scale, &mut out);
                Ok(out)
            }
            Backend::Gpu(ctx) => self.trace_gpu(ctx, scale, (ctx.max_binding_bytes() / 4) as usize),
        }
    }

    /// `trace`, one profile per ray in ray order.
    pub fn trace_each(&self, backend: &Backend, scale: &[f32]) -> Result<Vec<Vec<f32>>, GpuError> {
        let all = self.trace(backend, scale)?;
        Ok(self
            .rays
            .iter()
            .map(|r| all[r.offset as usize..][..r.n_samples as usize].to_vec())
            .collect())
    }

    /// The GPU path with at most `group_samples` output samples per dispatch.
    fn trace_gpu(
        &self,
        ctx: &GpuContext,
        scale: &[f32],
        group_samples: usize,
    ) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let bytes = scale.len() as u64 * 4;
        if bytes > ctx.max_binding_bytes() {
            return Err(GpuError::Execution(format!(
                "the volume ({} MB) exceeds the device's storage binding ({} MB); use the CPU path or a coarser grid",
                bytes / 1_000_000,
                ctx.max_binding_bytes() / 1_000_000
            )));
        }
        let pipeline = ctx.pipeline("wed_profile", WED_PROFILE_WGSL);
        let volume = ctx.buffer("scale", bytemuck::cast_slice(scale), U::STORAGE);
        let mut out = Vec::with_capacity(self.n_samples());
        let mut first = 0;
        while first < self.rays.len() {
            // Rays first..end, whose samples fit the group (at least one ray).
            let mut end = first + 1;
            let mut samples = self.rays[first].n_samples as usize;
            while end < self.rays.len()
                && samples + self.rays[end].n_samples as usize <= group_samples
            {
                samples += self.rays[end].n_samples as usize;
                end += 1;
            }
            let base = self.rays[first].offset;
            let rays: Vec<WedRay> = self.rays[first..end]
                .iter()
                .map(|r| WedRay {
                    offset: r.offset - base,
                    ..*r
                })
                .collect();
            let params = WedProfileParams {
                n_rays: rays.len() as u32,
                ..self.params
            };
            let uniform = ctx.buffer("params", bytemuck::bytes_of(&params), U::UNIFORM);
            let rays_buf = ctx.buffer("rays", bytemuck::cast_slice(&rays), U::STORAGE);
            let group_out = ctx.output("wed", (samples * 4) as u64);
            out.extend(ctx.run_1d::<f32>(
                &pipeline,
                &[&uniform, &rays_buf, &volume, &group_out],
                rays.len() as u32,
                &group_out,
                samples,
            )?);
            first = end;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Along x through a 4 × 1 × 1 volume of scale 1, 2, 3, 4 from its face
    /// at 1 mm per voxel, samples every 0.5 mm: WED by hand.
    #[test]
    fn cpu_walk_by_hand() {
        let rays = vec![WedRay::new([0.0, 0.5, 0.5], [1.0, 0.0, 0.0], 0.5, 10)];
        let k = WedProfiles::new([4, 1, 1], rays);
        let wed = k
            .trace(&Backend::Cpu { reason: None }, &[1.0, 2.0, 3.0, 4.0])
            .unwrap();
        assert_eq!(
            wed,
            vec![0.0, 0.5, 1.0, 2.0, 3.0, 4.5, 6.0, 8.0, 10.0, 10.0]
        );
        // Backwards from the far face: 4, 3, 2, 1.
        let back = WedProfiles::new(
            [4, 1, 1],
            vec![WedRay::new([4.0, 0.5, 0.5], [-1.0, 0.0, 0.0], 1.0, 5)],
        );
        let wed = back
            .trace(&Backend::Cpu { reason: None }, &[1.0, 2.0, 3.0, 4.0])
            .unwrap();
        assert_eq!(wed, vec![0.0, 4.0, 7.0, 9.0, 10.0]);
    }

    /// Groups of at most 7 samples give the same WED as the CPU twin.
    #[test]
    fn gpu_groups_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("wed_profile_groups") else {
            return;
        };
        let scale: Vec<f32> = (0..60).map(|v| 0.5 + (v % 7) as f32 * 0.25).collect();
        let rays = (0..9)
            .map(|r| {
                let f = r as f64;
                WedRay::new([0.0, 0.2 + 0.3 * f, 1.5], [0.8, 0.1, 0.05 * f], 0.7, 3 + r)
            })
            .collect();
        let k = WedProfiles::new([5, 4, 3], rays);
        let gpu = k.trace_gpu(&ctx, &scale, 7).unwrap();
        let cpu = k.trace(&Backend::Cpu { reason: None }, &scale).unwrap();
        assert_eq!(gpu.len(), cpu.len());
        for (g, c) in gpu.iter().zip(&cpu) {
            assert!((g - c).abs() <= 1e-5 * c.abs().max(1.0), "{g} vs {c}");
        }
    }
}
