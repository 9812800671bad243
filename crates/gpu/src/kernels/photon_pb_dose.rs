//! The photon pencil-beam dose kernel (`shaders/photon_pb_dose.wgsl`, compiled
//! after `shaders/photon_pair.wgsl`).

use crate::context::{GpuContext, GpuError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};

/// The element–point dose shared by the photon kernels, compiled before each.
pub(super) const PHOTON_PAIR_WGSL: &str = include_str!("../../../../shaders/photon_pair.wgsl");
const PHOTON_PB_DOSE_WGSL: &str = include_str!("../../../../shaders/photon_pb_dose.wgsl");

/// Gaussians in the kernel's radial profile (the physics crate's `KERNEL_SIGMAS_MM`).
pub const PHOTON_KERNEL_GAUSSIANS: usize = 6;

/// Uniform parameters of `photon_pb_dose.wgsl` (`Params` of `photon_pair.wgsl`;
/// layout shared with the CPU twins).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct PhotonPbParams {
    /// Centre of voxel (0, 0, 0), mm (w unused).
    pub grid_origin: [f32; 4],
    /// Position step (mm) per index along i, j, k (axis × spacing; w unused).
    pub step_i: [f32; 4],
    pub step_j: [f32; 4],
    pub step_k: [f32; 4],
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub n_elements: u32,
    /// Samples of the depth tables.
    pub n_depth: u32,
    /// First voxel of this dispatch (set per tile).
    pub voxel_offset: u32,
    /// Voxels in this dispatch (set per tile).
    pub n_voxels: u32,
    pub _pad0: u32,
    /// Radiological-depth step of the tables (mm).
    pub depth_step_mm: f32,
    /// Geometric step of the depth profiles along each element's ray (mm).
    pub profile_step_mm: f32,
    /// σ of the source (mm, in the isocentre plane): geometric penumbra.
    pub source_sigma_mm: f32,
    /// Gy per (photons/mm² × MeV·cm²/g).
    pub gy_per_unit: f32,
    /// Widths (mm) of the kernel's Gaussians at depth (first 6 used).
    pub sigma_mm: [f32; 8],
}

/// One rectangular fluence element of a beam (96 bytes, 16-byte aligned).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct PhotonPbElement {
    /// Source position (mm); w = fluence (photons per mm² in the isocentre plane).
    pub source: [f32; 4],
    /// Beam's-eye-view x axis (unit); w = element centre u (mm, isocentre plane).
    pub bev_x: [f32; 4],
    /// Beam's-eye-view y axis (unit); w = element centre v (mm).
    pub bev_y: [f32; 4],
    /// Beam axis, source → isocentre (unit); w = source-to-axis distance (mm).
    pub axis: [f32; 4],
    /// Unit direction of the element's central ray from the source; w = the
    /// distance (mm) from the source at which its depth profile starts.
    pub ray: [f32; 4],
    /// Half-widths (mm) in the isocentre plane.
    pub half_u: f32,
    pub half_v: f32,
    /// First sample of this element's radiological-depth profile.
    pub profile_offset: u32,
    /// Samples in the profile (≥ 2).
    pub profile_len: u32,
}

/// Everything the kernel reads: parameters, elements, depth tables, profiles.
#[derive(Debug, Clone)]
pub struct PhotonPbDose {
    pub params: PhotonPbParams,
    pub elements: Vec<PhotonPbElement>,
    /// Integrated depth dose I (MeV·cm²/g per photon), depth = index × step.
    pub idd: Vec<f32>,
    /// Gaussian weights, [`PHOTON_KERNEL_GAUSSIANS`] per depth sample.
    pub weights: Vec<f32>,
    /// Radiological depth (mm of water) along each element's ray.
    pub profiles: Vec<f32>,
}

/// Voxel–element evaluations per GPU dispatch at most, so that no dispatch runs long.
const EVALUATIONS_PER_DISPATCH: u64 = 1 << 26;

impl PhotonPbDose {
    /// Checks the buffers against each other, naming the first inconsistency.
    pub fn check(&self) -> Result<(), String> {
        let p = &self.params;
        if p.n_depth < 2
            || self.idd.len() != p.n_depth as usize
            || self.weights.len() != self.idd.len() * PHOTON_KERNEL_GAUSSIANS
        {
            return Err(format!(
                "depth tables: {} I and {} weight samples for {} depths (≥ 2)",
                self.idd.len(),
                self.weights.len(),
                p.n_depth
            ));
        }
        for (n, e) in self.elements.iter().enumerate() {
            let end = e.profile_offset as usize + e.profile_len as usize;
            if e.profile_len < 2 || end > self.profiles.len() {
                return Err(format!(
                    "element {n}: depth profile {}..{end} outside the {} samples",
                    e.profile_offset,
                    self.profiles.len()
                ));
            }
            if !(e.half_u > 0.0 && e.half_v > 0.0 && e.axis[3] > 0.0) {
                return Err(format!("element {n}: empty, or no source distance"));
            }
        }
        if !(p.depth_step_mm > 0.0 && p.profile_step_mm > 0.0) {
            return Err("depth and profile steps must be positive".into());
        }
        if p.sigma_mm[..PHOTON_KERNEL_GAUSSIANS]
            .iter()
            .any(|s| s.is_nan() || *s <= 0.0)
        {
            return Err("kernel widths must be positive".into());
        }
        Ok(())
    }

    /// Dose (Gy) in every voxel of the grid, i fastest.
    pub fn dose(&self, backend: &Backend) -> Result<Vec<f32>, GpuError> {
        self.check().map_err(GpuError::Execution)?;
        let n = (self.params.nx * self.params.ny * self.params.nz) as usize;
        let mut params = self.params;
        params.n_elements = self.elements.len() as u32;
        match backend {
            Backend::Cpu { .. } => {
                params.voxel_offset = 0;
                params.n_voxels = n as u32;
                let mut out = vec![0.0; n];
                cpu::photon_pb_dose(
                    &params,
                    &self.elements,
                    &self.idd,
                    &self.weights,
                    &self.profiles,
                    &mut out,
                );
                Ok(out)
            }
            Backend::Gpu(ctx) => {
                let tile = ctx.voxel_tile(EVALUATIONS_PER_DISPATCH, params.n_elements);
                self.dose_gpu(ctx, params, n, tile)
            }
        }
    }

    fn dose_gpu(
        &self,
        ctx: &GpuContext,
        params: PhotonPbParams,
        n: usize,
        tile: usize,
    ) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline(
            "photon_pb_dose",
            &[PHOTON_PAIR_WGSL, PHOTON_PB_DOSE_WGSL].concat(),
        );
        let buffer =
            |label, data: &[f32]| ctx.buffer(label, bytemuck::cast_slice(data), U::STORAGE);
        let elements = ctx.buffer("elements", bytemuck::cast_slice(&self.elements), U::STORAGE);
        let idd = buffer("idd", &self.idd);
        let weights = buffer("weights", &self.weights);
        let profiles = buffer("profiles", &self.profiles);
        let inputs = [&elements, &idd, &weights, &profiles];
        ctx.run_voxel_tiles(&pipeline, &inputs, n, tile, |offset, count| {
            let mut p = params;
            p.voxel_offset = offset;
            p.n_voxels = count;
            bytemuck::bytes_of(&p).to_vec()
        })
    }
}

/// For kernel tests: a 20 × 20 mm element (half-width 10 mm) with its source
/// 1000 mm above the isocentre plane z = 0 on a 21 × 21 × 1 grid of 1 mm voxels.
#[cfg(test)]
pub(super) fn one_element() -> PhotonPbDose {
    let mut sigma_mm = [2.0; 8];
    sigma_mm[1..].fill(50.0);
    let mut weights = vec![0.0; 11 * PHOTON_KERNEL_GAUSSIANS];
    for k in 0..11 {
        weights[k * PHOTON_KERNEL_GAUSSIANS] = 1.0;
    }
    PhotonPbDose {
        params: PhotonPbParams {
            grid_origin: [-10.0, -10.0, 0.0, 0.0],
            step_i: [1.0, 0.0, 0.0, 0.0],
            step_j: [0.0, 1.0, 0.0, 0.0],
            step_k: [0.0, 0.0, 1.0, 0.0],
            nx: 21,
            ny: 21,
            nz: 1,
            n_elements: 1,
            n_depth: 11,
            voxel_offset: 0,
            n_voxels: 0,
            _pad0: 0,
            depth_step_mm: 1.0,
            profile_step_mm: 1.0,
            source_sigma_mm: 0.0,
            gy_per_unit: 1.0,
            sigma_mm,
        },
        elements: vec![PhotonPbElement {
            source: [0.0, 0.0, -1000.0, 2.0],
            bev_x: [1.0, 0.0, 0.0, 0.0],
            bev_y: [0.0, 1.0, 0.0, 0.0],
            axis: [0.0, 0.0, 1.0, 1000.0],
            ray: [0.0, 0.0, 1.0, 995.0],
            half_u: 10.0,
            half_v: 10.0,
            profile_offset: 0,
            profile_len: 10,
        }],
        idd: vec![3.0; 11],
        weights,
        profiles: (0..10).map(|i| i as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's erf against tabulated values (Abramowitz and Stegun
    /// table 7.1, 10 digits) within 2e-6 (the approximation's 3e-7 plus f32
    /// rounding, which the 16th power amplifies near 0: 1.6e-6 at most over
    /// 0–6 in steps of 1e-4 against Python's math.erf), odd, and exactly ±1
    /// far out (clamped at |x| = 6).
    #[test]
    fn erf_matches_the_table() {
        for (x, erf) in [
            (0.1, 0.112_462_916_0),
            (0.5, 0.520_499_877_8),
            (1.0, 0.842_700_792_9),
            (1.5, 0.966_105_146_5),
            (2.0, 0.995_322_265_0),
            (3.0, 0.999_977_909_5),
        ] {
            assert!(
                (f64::from(cpu::erf(x as f32)) - erf).abs() < 2e-6,
                "erf({x})"
            );
            assert_eq!(cpu::erf(-x as f32), -cpu::erf(x as f32));
        }
        assert_eq!(cpu::erf(0.0), 0.0);
        assert_eq!(cpu::erf(1e30), 1.0);
        assert_eq!(cpu::erf(-1e30), -1.0);
    }

    /// One wide element over a flat table with a single 2 mm Gaussian and no
    /// source blur, by hand: on the axis at the isocentre plane the dose is
    /// fluence × I × box(0)², and half of that at the field edge (box = ½ erf).
    #[test]
    fn single_element_by_hand() {
        let k = one_element();
        let d = k.dose(&Backend::Cpu { reason: None }).unwrap();
        let centre = cpu::erf(10.0 / (std::f32::consts::SQRT_2 * 2.0));
        let expect = 2.0 * 3.0 * centre * centre;
        assert!((d[10 + 21 * 10] / expect - 1.0).abs() < 1e-5, "{}", d[220]);
        let edge = 2.0 * 3.0 * 0.5 * cpu::erf(20.0 / (std::f32::consts::SQRT_2 * 2.0)) * centre;
        assert!((d[20 + 21 * 10] / edge - 1.0).abs() < 1e-4, "{}", d[230]);
        let mut bad = k.clone();
        bad.elements[0].profile_len = 100;
        assert!(bad.dose(&Backend::Cpu { reason: None }).is_err());
    }

    /// Dispatches of 7 voxels give the same dose as the CPU twin.
    #[test]
    fn gpu_tiles_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("photon_pb_dose_tiles") else {
            return;
        };
        let k = one_element();
        let cpu = k.dose(&Backend::Cpu { reason: None }).unwrap();
        let gpu = k.dose_gpu(&ctx, k.params, cpu.len(), 7).unwrap();
        let max = cpu.iter().fold(0.0f32, |m, v| m.max(*v));
        for (a, b) in gpu.iter().zip(&cpu) {
            assert!((a - b).abs() <= 1e-5 * max, "{a} vs {b}");
        }
    }
}
