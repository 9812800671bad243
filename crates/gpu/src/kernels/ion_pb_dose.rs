//! The ion pencil-beam dose kernel (`shaders/ion_pb_dose.wgsl`, compiled after
//! `shaders/ion_pair.wgsl`).

use crate::context::{GpuContext, GpuError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};

/// The spot–point dose shared by the ion kernels, compiled before each.
pub(super) const ION_PAIR_WGSL: &str = include_str!("../../../../shaders/ion_pair.wgsl");
const ION_PB_DOSE_WGSL: &str = include_str!("../../../../shaders/ion_pb_dose.wgsl");

/// Uniform parameters of `ion_pb_dose.wgsl` (`Params` of `ion_pair.wgsl`;
/// layout shared with the CPU twins).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct IonPbParams {
    /// Centre of voxel (0, 0, 0), mm (w unused).
    pub grid_origin: [f32; 4],
    /// Position step (mm) per index along i, j, k (axis × spacing; w unused).
    pub step_i: [f32; 4],
    pub step_j: [f32; 4],
    pub step_k: [f32; 4],
    pub nx: u32,
    pub ny: u32,
    pub nz: u32,
    pub n_spots: u32,
    /// Samples per energy in the IDD table.
    pub n_depth: u32,
    /// First voxel of this dispatch (set per tile).
    pub voxel_offset: u32,
    /// Voxels in this dispatch (set per tile).
    pub n_voxels: u32,
    pub _pad0: u32,
    /// WED step of the depth tables (mm).
    pub depth_step_mm: f32,
    /// Geometric step of the WED profiles along each spot's ray (mm).
    pub profile_step_mm: f32,
    /// Lateral cut-off of the core's Gaussian in units of the spot's σ at that depth.
    pub cutoff_sigmas: f32,
    /// Gy per (weight × MeV·cm²/g × mm⁻²): 100 mm²/cm² × 1.602176634e-10 Gy·g/MeV.
    pub gy_per_unit: f32,
}

/// Gy per (MeV·cm²/g × mm⁻²) for one particle: 1 MeV/g = 1.602176634e-10 Gy,
/// 1 mm⁻² = 100 cm⁻².
pub const GY_PER_MEV_CM2_G_PER_MM2: f32 = 1.602_176_6e-8;

/// One spot (48 bytes, 16-byte aligned).
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct IonPbSpot {
    /// Start of the central ray, where its WED profile begins (mm); w = the
    /// squared radius (mm²) beyond which the spot deposits nothing at any depth
    /// (the larger of the core's and the tail's cut-off radius over its
    /// depths), checked before any table lookup.
    pub origin: [f32; 4],
    /// Unit direction of travel; w = weight (particles).
    pub dir: [f32; 4],
    /// Spot σ in air at the patient (mm).
    pub sigma_air_mm: f32,
    /// Row of the depth tables (energy index).
    pub energy: u32,
    /// First sample of this spot's (WED, σ_MCS) profile in the profile buffer.
    pub profile_offset: u32,
    /// Samples in the profile (≥ 2).
    pub profile_len: u32,
}

/// A spot as the ion kernels read it (`Spot` of `ion_pair.wgsl`, 112 bytes):
/// the spot and, for the centre c(i, j, k) of each voxel of the dose grid,
/// the terms of (c − origin) × dir (xyz, mm) and (c − origin) · dir (w, mm),
/// which are linear in i, j and k. The kernels add them as
/// (`at_voxel0` + j·`per_ijk[1]` + k·`per_ijk[2]`) + i·`per_ijk[0]`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct IonKernelSpot {
    pub spot: IonPbSpot,
    pub at_voxel0: [f32; 4],
    /// Steps of the terms per unit of i, j and k.
    pub per_ijk: [[f32; 4]; 3],
}

impl IonKernelSpot {
    /// `spot`'s terms on the grid of `p`, computed in f64 and rounded once.
    pub fn new(spot: IonPbSpot, p: &IonPbParams) -> Self {
        let f = |v: &[f32; 4]| [v[0], v[1], v[2]].map(f64::from);
        let (o, d) = (f(&spot.origin), f(&spot.dir));
        let terms = |v: [f64; 3]| {
            [
                (v[1] * d[2] - v[2] * d[1]) as f32,
                (v[2] * d[0] - v[0] * d[2]) as f32,
                (v[0] * d[1] - v[1] * d[0]) as f32,
                (v[0] * d[0] + v[1] * d[1] + v[2] * d[2]) as f32,
            ]
        };
        let g = f(&p.grid_origin);
        Self {
            spot,
            at_voxel0: terms(std::array::from_fn(|a| g[a] - o[a])),
            per_ijk: [&p.step_i, &p.step_j, &p.step_k].map(|s| terms(f(s))),
        }
    }
}

/// Everything the kernel reads: parameters, spots, depth tables and WED profiles.
#[derive(Debug, Clone)]
pub struct IonPbDose {
    pub params: IonPbParams,
    pub spots: Vec<IonPbSpot>,
    /// `n_depth` samples per energy, WED = index × step: (core IDD, tail IDD,
    /// σ_tail mm, the tail's squared cut-off in units of its σ), the IDDs in
    /// MeV·cm²/g per particle; core + tail is the IDD, the tail the lateral
    /// tail's part (nuclear halo, fragments).
    pub depth_table: Vec<[f32; 4]>,
    /// (WED, σ of multiple Coulomb scattering), both mm, along each spot's ray
    /// at `profile_step_mm` intervals.
    pub profiles: Vec<[f32; 2]>,
}

/// Parameters for kernel tests: a grid of 1 mm voxels along x, y, z from
/// `origin` (mm) of `shape`, 11-sample depth tables and profiles in 1 mm steps.
#[cfg(test)]
pub(super) fn unit_grid_params(
    origin: [f32; 3],
    shape: [u32; 3],
    cutoff_sigmas: f32,
    gy_per_unit: f32,
) -> IonPbParams {
    IonPbParams {
        grid_origin: [origin[0], origin[1], origin[2], 0.0],
        step_i: [1.0, 0.0, 0.0, 0.0],
        step_j: [0.0, 1.0, 0.0, 0.0],
        step_k: [0.0, 0.0, 1.0, 0.0],
        nx: shape[0],
        ny: shape[1],
        nz: shape[2],
        n_spots: 0,
        n_depth: 11,
        voxel_offset: 0,
        n_voxels: 0,
        _pad0: 0,
        depth_step_mm: 1.0,
        profile_step_mm: 1.0,
        cutoff_sigmas,
        gy_per_unit,
    }
}

/// Voxel–spot evaluations per GPU dispatch at most, so that no dispatch runs long.
const EVALUATIONS_PER_DISPATCH: u64 = 1 << 28;

impl IonPbDose {
    /// Checks the buffers against each other, naming the first inconsistency.
    pub fn check(&self) -> Result<(), String> {
        let p = &self.params;
        let n_depth = p.n_depth as usize;
        if n_depth < 2 || !self.depth_table.len().is_multiple_of(n_depth) {
            return Err(format!(
                "depth table: {} samples do not form rows of {n_depth} (≥ 2)",
                self.depth_table.len()
            ));
        }
        let energies = self.depth_table.len() / n_depth;
        for (n, s) in self.spots.iter().enumerate() {
            if s.energy as usize >= energies {
                return Err(format!(
                    "spot {n}: energy row {} but the tables hold {energies}",
                    s.energy
                ));
            }
            let end = s.profile_offset as usize + s.profile_len as usize;
            if s.profile_len < 2 || end > self.profiles.len() {
                return Err(format!(
                    "spot {n}: WED profile {}..{end} outside the {} samples",
                    s.profile_offset,
                    self.profiles.len()
                ));
            }
        }
        if !(p.depth_step_mm > 0.0 && p.profile_step_mm > 0.0) {
            return Err("depth and profile steps must be positive".into());
        }
        Ok(())
    }

    /// The spots as the kernels read them, on this input's grid.
    pub fn kernel_spots(&self) -> Vec<IonKernelSpot> {
        let p = &self.params;
        self.spots
            .iter()
            .map(|s| IonKernelSpot::new(*s, p))
            .collect()
    }

    /// Dose (Gy) in every voxel of the grid, i fastest.
    pub fn dose(&self, backend: &Backend) -> Result<Vec<f32>, GpuError> {
        self.check().map_err(GpuError::Execution)?;
        let n = (self.params.nx * self.params.ny * self.params.nz) as usize;
        let mut params = self.params;
        params.n_spots = self.spots.len() as u32;
        match backend {
            Backend::Cpu { .. } => {
                params.voxel_offset = 0;
                params.n_voxels = n as u32;
                let mut out = vec![0.0; n];
                cpu::ion_pb_dose(
                    &params,
                    &self.kernel_spots(),
                    &self.depth_table,
                    &self.profiles,
                    &mut out,
                );
                Ok(out)
            }
            Backend::Gpu(ctx) => {
                let tile = ctx.voxel_tile(EVALUATIONS_PER_DISPATCH, params.n_spots);
                self.dose_gpu(ctx, params, n, tile)
            }
        }
    }

    fn dose_gpu(
        &self,
        ctx: &GpuContext,
        params: IonPbParams,
        n: usize,
        tile: usize,
    ) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline("ion_pb_dose", &[ION_PAIR_WGSL, ION_PB_DOSE_WGSL].concat());
        let spots = ctx.buffer(
            "spots",
            bytemuck::cast_slice(&self.kernel_spots()),
            U::STORAGE,
        );
        let table = ctx.buffer(
            "depth_table",
            bytemuck::cast_slice(&self.depth_table),
            U::STORAGE,
        );
        let profiles = ctx.buffer("profiles", bytemuck::cast_slice(&self.profiles), U::STORAGE);
        ctx.run_voxel_tiles(
            &pipeline,
            &[&spots, &table, &profiles],
            n,
            tile,
            |offset, count| {
                let mut p = params;
                p.voxel_offset = offset;
                p.n_voxels = count;
                bytemuck::bytes_of(&p).to_vec()
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One spot straight down +z through a flat-IDD, zero-scatter table: the
    /// dose is the Gaussian of the spot in air times the IDD, by hand.
    #[test]
    fn single_spot_gaussian_by_hand() {
        let k = one_spot();
        let d = k.dose(&Backend::Cpu { reason: None }).unwrap();
        let g = |r2: f32| 2.0 * 3.0 * (-0.5 * r2 / 2.25).exp() / (std::f32::consts::TAU * 2.25);
        assert!((d[2 + 5 * 2] - g(0.0)).abs() < 1e-6);
        assert!((d[4 + 5 * 2 + 25] - g(4.0)).abs() < 1e-6);
        // A spot whose energy row is missing is refused.
        let mut bad = k.clone();
        bad.spots[0].energy = 1;
        assert!(bad.dose(&Backend::Cpu { reason: None }).is_err());
    }

    /// Dispatches of 7 voxels give the same dose as the CPU twin.
    #[test]
    fn gpu_tiles_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("ion_pb_dose_tiles") else {
            return;
        };
        let k = one_spot();
        let cpu = k.dose(&Backend::Cpu { reason: None }).unwrap();
        let gpu = k.dose_gpu(&ctx, k.params, cpu.len(), 7).unwrap();
        for (a, b) in gpu.iter().zip(&cpu) {
            assert!((a - b).abs() <= 1e-6 * cpu[12], "{a} vs {b}");
        }
    }

    fn one_spot() -> IonPbDose {
        IonPbDose {
            params: IonPbParams {
                n_spots: 1,
                ..unit_grid_params([-2.0, -2.0, 0.0], [5, 5, 3], 5.0, 1.0)
            },
            spots: vec![IonPbSpot {
                origin: [0.0, 0.0, -1.0, f32::MAX],
                dir: [0.0, 0.0, 1.0, 2.0],
                sigma_air_mm: 1.5,
                energy: 0,
                profile_offset: 0,
                profile_len: 10,
            }],
            depth_table: vec![[3.0, 0.0, 0.0, 0.0]; 11],
            profiles: (0..10).map(|i| [i as f32, 0.0]).collect(),
        }
    }
}
