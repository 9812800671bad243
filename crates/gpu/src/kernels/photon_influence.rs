//! The photon influence-entry kernel (`shaders/photon_influence.wgsl`,
//! compiled after `shaders/photon_pair.wgsl`): the dose of listed fluence
//! elements at listed voxels, the entries of a beamlet influence matrix.

use super::photon_pb_dose::PHOTON_PAIR_WGSL;
use crate::context::{GpuContext, GpuError};
use crate::kernels::{PhotonPbDose, PhotonPbParams};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};

const PHOTON_INFLUENCE_WGSL: &str = include_str!("../../../../shaders/photon_influence.wgsl");

/// Uniform parameters of `photon_influence.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct PhotonInfluenceParams {
    /// The dose kernel's parameters (grid, tables, kernel widths, Gy per unit).
    pub pb: PhotonPbParams,
    /// Runs in this dispatch.
    pub n_runs: u32,
    pub _pad: [u32; 3],
}

/// Voxels `first .. first + count` of the list, for element `element`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct PhotonRun {
    pub element: u32,
    pub first: u32,
    pub count: u32,
    pub _pad: u32,
}

/// Voxels per run at most: long lists are split so that threads share the work.
const RUN_VOXELS: usize = 64;
/// Voxel–element evaluations (list entries) per GPU dispatch at most.
const ENTRIES_PER_DISPATCH: usize = 1 << 24;

/// The dose kernel's input and, per element, the voxels to evaluate it at.
pub struct PhotonInfluence<'a> {
    pub input: &'a PhotonPbDose,
    runs: Vec<PhotonRun>,
    /// The listed voxels as (i, j, k) packed i | j << 11 | k << 22.
    voxels: Vec<u32>,
}

impl<'a> PhotonInfluence<'a> {
    /// `lists[e]`: the voxels (linear indices, i fastest) of element e of
    /// `input`; checked against the input and the grid.
    pub fn new(input: &'a PhotonPbDose, lists: &[Vec<u32>]) -> Result<Self, String> {
        input.check()?;
        if lists.len() != input.elements.len() {
            return Err(format!(
                "{} voxel lists for {} elements",
                lists.len(),
                input.elements.len()
            ));
        }
        let p = &input.params;
        if p.nx > 2048 || p.ny > 2048 || p.nz > 1024 {
            return Err(format!(
                "a dose grid of {} × {} × {} voxels exceeds the influence kernel's 2048 × 2048 × 1024",
                p.nx, p.ny, p.nz
            ));
        }
        let n_voxels = p.nx as usize * p.ny as usize * p.nz as usize;
        let total: usize = lists.iter().map(Vec::len).sum();
        if total > u32::MAX as usize {
            return Err(format!("{total} voxel–element pairs exceed u32 indices"));
        }
        let mut runs = Vec::new();
        let mut voxels = Vec::with_capacity(total);
        for (e, list) in lists.iter().enumerate() {
            if let Some(v) = list.iter().find(|v| **v as usize >= n_voxels) {
                return Err(format!(
                    "element {e}: voxel {v} outside the {n_voxels} of the grid"
                ));
            }
            for chunk in list.chunks(RUN_VOXELS) {
                runs.push(PhotonRun {
                    element: e as u32,
                    first: voxels.len() as u32,
                    count: chunk.len() as u32,
                    _pad: 0,
                });
                voxels.extend(chunk.iter().map(|v| {
                    let (i, j, k) = (v % p.nx, (v / p.nx) % p.ny, v / (p.nx * p.ny));
                    i | j << 11 | k << 22
                }));
            }
        }
        Ok(Self {
            input,
            runs,
            voxels,
        })
    }

    /// The dose (Gy per unit weight) of each element at each of its voxels,
    /// the lists one after another in element order.
    pub fn doses(&self, backend: &Backend) -> Result<Vec<f32>, GpuError> {
        match backend {
            Backend::Cpu { .. } => {
                let mut out = vec![0.0; self.voxels.len()];
                cpu::photon_influence(
                    &self.params(self.runs.len()),
                    &self.input.elements,
                    (&self.input.idd, &self.input.weights, &self.input.profiles),
                    &self.runs,
                    &self.voxels,
                    &mut out,
                );
                Ok(out)
            }
            Backend::Gpu(ctx) => {
                let max = (ctx.max_binding_bytes() / 16) as usize;
                self.doses_gpu(ctx, ENTRIES_PER_DISPATCH.min(max))
            }
        }
    }

    fn params(&self, n_runs: usize) -> PhotonInfluenceParams {
        let mut pb = self.input.params;
        pb.n_elements = self.input.elements.len() as u32;
        PhotonInfluenceParams {
            pb,
            n_runs: n_runs as u32,
            _pad: [0; 3],
        }
    }

    /// The GPU path: dispatches of whole runs holding at most `max_entries`
    /// list entries (at least one run each).
    fn doses_gpu(&self, ctx: &GpuContext, max_entries: usize) -> Result<Vec<f32>, GpuError> {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline(
            "photon_influence",
            &[PHOTON_PAIR_WGSL, PHOTON_INFLUENCE_WGSL].concat(),
        );
        let buffer =
            |label, data: &[f32]| ctx.buffer(label, bytemuck::cast_slice(data), U::STORAGE);
        let elements = ctx.buffer(
            "elements",
            bytemuck::cast_slice(&self.input.elements),
            U::STORAGE,
        );
        let idd = buffer("idd", &self.input.idd);
        let weights = buffer("weights", &self.input.weights);
        let profiles = buffer("profiles", &self.input.profiles);
        let mut out = Vec::with_capacity(self.voxels.len());
        let mut first = 0;
        while first < self.runs.len() {
            let base = self.runs[first].first;
            let mut end = first + 1;
            while end < self.runs.len()
                && (self.runs[end].first + self.runs[end].count - base) as usize <= max_entries
            {
                end += 1;
            }
            let runs: Vec<PhotonRun> = self.runs[first..end]
                .iter()
                .map(|r| PhotonRun {
                    first: r.first - base,
                    ..*r
                })
                .collect();
            let last = &self.runs[end - 1];
            let list = &self.voxels[base as usize..(last.first + last.count) as usize];
            let uniform = ctx.buffer(
                "params",
                bytemuck::bytes_of(&self.params(runs.len())),
                U::UNIFORM,
            );
            let runs_buf = ctx.buffer("runs", bytemuck::cast_slice(&runs), U::STORAGE);
            let voxels = ctx.buffer("voxels", bytemuck::cast_slice(list), U::STORAGE);
            let dose = ctx.output("dose", (list.len() * 4) as u64);
            out.extend(ctx.run_1d::<f32>(
                &pipeline,
                &[
                    &uniform, &elements, &idd, &weights, &profiles, &runs_buf, &voxels, &dose,
                ],
                runs.len() as u32,
                &dose,
                list.len(),
            )?);
            first = end;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::photon_pb_dose::one_element;

    /// The test element and a copy shifted 4 mm along u, each listed at
    /// every voxel of the grid in a scrambled order (runs of 64 and a short
    /// last one).
    fn two_elements() -> (PhotonPbDose, Vec<Vec<u32>>) {
        let mut input = one_element();
        let mut shifted = input.elements[0];
        shifted.bev_x[3] = 4.0;
        input.elements.push(shifted);
        input.params.gy_per_unit = 0.25;
        let n = input.params.nx * input.params.ny * input.params.nz;
        let scrambled: Vec<u32> = (0..n).map(|v| (v * 7) % n).collect();
        (input, vec![scrambled.clone(), scrambled[..100].to_vec()])
    }

    /// Each listed value is the dose kernel's (CPU twin) for that element
    /// alone at that voxel, bit for bit.
    #[test]
    fn listed_doses_are_the_dose_kernels() {
        let (input, lists) = two_elements();
        let doses = PhotonInfluence::new(&input, &lists)
            .unwrap()
            .doses(&Backend::Cpu { reason: None })
            .unwrap();
        let mut at = 0;
        for (e, list) in lists.iter().enumerate() {
            let mut one = input.clone();
            one.elements = vec![input.elements[e]];
            let dose = one.dose(&Backend::Cpu { reason: None }).unwrap();
            for v in list {
                assert_eq!(
                    doses[at].to_bits(),
                    dose[*v as usize].to_bits(),
                    "element {e}, voxel {v}"
                );
                at += 1;
            }
        }
        assert!(doses.iter().filter(|d| **d > 0.0).count() > 300);
    }

    /// Dispatches of at most 100 list entries give the CPU values within 1e-5
    /// of the largest.
    #[test]
    fn gpu_dispatches_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("photon_influence_dispatches") else {
            return;
        };
        let (input, lists) = two_elements();
        let kernel = PhotonInfluence::new(&input, &lists).unwrap();
        let cpu = kernel.doses(&Backend::Cpu { reason: None }).unwrap();
        let gpu = kernel.doses_gpu(&ctx, 100).unwrap();
        let max = cpu.iter().fold(0.0f32, |m, v| m.max(*v));
        assert_eq!(gpu.len(), cpu.len());
        for (a, b) in gpu.iter().zip(&cpu) {
            assert!((a - b).abs() <= 1e-5 * max, "{a} vs {b}");
        }
    }

    #[test]
    fn refuses_inconsistent_lists() {
        let (input, mut lists) = two_elements();
        assert!(PhotonInfluence::new(&input, &lists[..1]).is_err());
        lists[1].push(441);
        let e = PhotonInfluence::new(&input, &lists).err().unwrap();
        assert!(e.contains("voxel 441 outside"), "{e}");
    }
}
