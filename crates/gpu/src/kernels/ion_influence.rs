//! The ion dose-influence matrix kernel (`shaders/ion_influence.wgsl`,
//! compiled after `shaders/ion_pair.wgsl`): a count pass, a prefix sum on the
//! host, and a fill pass.

use super::ion_pb_dose::ION_PAIR_WGSL;
use crate::context::{GpuContext, GpuError};
use crate::kernels::{CompressedRows, IonKernelSpot, IonPbDose, IonPbParams, SparseError};
use crate::{cpu, Backend};
use bytemuck::{Pod, Zeroable};
use rayon::prelude::*;

const ION_INFLUENCE_WGSL: &str = include_str!("../../../../shaders/ion_influence.wgsl");

/// Why an influence matrix cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum InfluenceError {
    #[error("influence-matrix input: {0}")]
    Input(String),
    #[error(transparent)]
    Sparse(#[from] SparseError),
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// Uniform parameters of `ion_influence.wgsl`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable)]
pub struct IonInfluenceParams {
    /// The dose kernel's parameters (grid, tables, cut-off, Gy per unit).
    pub pb: IonPbParams,
    /// Segments in this dispatch.
    pub n_segments: u32,
    /// 0: count pass; 1: fill pass.
    pub fill: u32,
    pub _pad: [u32; 2],
}

/// A run of `len` consecutive voxels along i from voxel `voxel` (linear index,
/// i fastest, within one row of the grid) that spot `spot` may reach.
#[repr(C)]
#[derive(Debug, Clone, Copy, Pod, Zeroable, PartialEq, Eq)]
pub struct IonSegment {
    pub spot: u32,
    pub voxel: u32,
    pub len: u32,
    /// First entry of the segment in a fill dispatch's output (set by the host).
    pub offset: u32,
}

/// The kernel's input: the dose kernel's (whose spot weights are ignored:
/// the matrix is per particle), the segments spot-major, and the voxels kept.
pub struct IonInfluence<'a> {
    pub input: &'a IonPbDose,
    segments: Vec<IonSegment>,
    /// One bit per voxel (bit v % 32 of word v / 32).
    keep: Vec<u32>,
}

/// Voxel–spot evaluations per GPU dispatch at most, so that no dispatch runs long.
const EVALUATIONS_PER_DISPATCH: u64 = 1 << 27;

impl<'a> IonInfluence<'a> {
    /// Checks that the segments are spot-major, name existing spots and stay
    /// within one row of the grid; `keep` has one flag per voxel.
    pub fn new(
        input: &'a IonPbDose,
        segments: Vec<IonSegment>,
        keep: &[bool],
    ) -> Result<Self, InfluenceError> {
        input.check().map_err(InfluenceError::Input)?;
        let p = &input.params;
        let n_voxels = n_voxels(p);
        if keep.len() != n_voxels {
            return Err(InfluenceError::Input(format!(
                "{} keep flags for a grid of {n_voxels} voxels",
                keep.len()
            )));
        }
        let mut last_spot = 0;
        for (n, s) in segments.iter().enumerate() {
            if s.spot as usize >= input.spots.len() || s.spot < last_spot {
                return Err(InfluenceError::Input(format!(
                    "segment {n}: spot {} out of order or beyond the {} spots",
                    s.spot,
                    input.spots.len()
                )));
            }
            if s.len == 0
                || (s.voxel % p.nx) as u64 + u64::from(s.len) > u64::from(p.nx)
                || s.voxel as usize >= n_voxels
            {
                return Err(InfluenceError::Input(format!(
                    "segment {n}: {} voxels from voxel {} leave its row",
                    s.len, s.voxel
                )));
            }
            last_spot = s.spot;
        }
        let mut bits = vec![0u32; n_voxels.div_ceil(32)];
        for (v, _) in keep.iter().enumerate().filter(|(_, k)| **k) {
            bits[v / 32] |= 1 << (v % 32);
        }
        Ok(Self {
            input,
            segments,
            keep: bits,
        })
    }

    /// The matrix as compressed rows, one row per spot (its column of A:
    /// voxel indices ascending within each segment, Gy per particle).
    pub fn matrix(&self, backend: &Backend) -> Result<CompressedRows, InfluenceError> {
        match backend {
            Backend::Cpu { .. } => self.matrix_cpu(),
            Backend::Gpu(ctx) => {
                let max = ctx.max_binding_bytes();
                self.matrix_gpu(
                    ctx,
                    EVALUATIONS_PER_DISPATCH,
                    (max / 16) as usize,
                    (max / 8) as usize,
                )
            }
        }
    }

    /// Adds A·w over the kept voxels to `dose` (Gy, one value per voxel of
    /// the input's grid) on the CPU without storing A: each segment's entries
    /// (`cpu::segment_entries`, the kernel's thread) with the spots' own
    /// weights, the grid's slices in parallel, a slice's segments in order.
    pub fn add_weighted_cpu(&self, dose: &mut [f32]) {
        let spots = self.input.kernel_spots();
        let mut pb = self.input.params;
        pb.n_spots = spots.len() as u32;
        assert_eq!(dose.len(), n_voxels(&pb), "one dose value per voxel");
        let slice = (pb.nx * pb.ny) as usize;
        let mut by_slice: Vec<Vec<&IonSegment>> = vec![Vec::new(); pb.nz as usize];
        for seg in &self.segments {
            by_slice[seg.voxel as usize / slice].push(seg);
        }
        dose.par_chunks_mut(slice)
            .zip(by_slice)
            .enumerate()
            .for_each(|(k, (out, segments))| {
                let first = (k * slice) as u32;
                for seg in segments {
                    cpu::segment_entries(
                        &pb,
                        &spots,
                        &self.input.depth_table,
                        &self.input.profiles,
                        &self.keep,
                        seg,
                        |v, d| out[(v - first) as usize] += d,
                    );
                }
            });
    }

    /// The spots with unit weight, and the parameters of a dispatch.
    fn spots_and_params(
        &self,
        n_segments: usize,
        fill: u32,
    ) -> (Vec<IonKernelSpot>, IonInfluenceParams) {
        let mut spots = self.input.kernel_spots();
        for s in &mut spots {
            s.spot.dir[3] = 1.0;
        }
        let mut pb = self.input.params;
        pb.n_spots = self.input.spots.len() as u32;
        let params = IonInfluenceParams {
            pb,
            n_segments: n_segments as u32,
            fill,
            _pad: [0; 2],
        };
        (spots, params)
    }

    /// The CPU path: the spots' segments in parallel, one pass, in waves
    /// (`CompressedRows::from_row_fn`); a spot's buffers hold its evaluated
    /// voxels, the most it can keep.
    fn matrix_cpu(&self) -> Result<CompressedRows, InfluenceError> {
        let (spots, params) = self.spots_and_params(0, 0);
        let mut bounds = vec![0usize; spots.len() + 1];
        for s in &self.segments {
            bounds[s.spot as usize + 1] += 1;
        }
        for s in 0..spots.len() {
            bounds[s + 1] += bounds[s];
        }
        Ok(CompressedRows::from_row_fn(
            n_voxels(&params.pb),
            spots.len(),
            |s, rows, vals| {
                let segments = &self.segments[bounds[s]..bounds[s + 1]];
                let most: usize = segments.iter().map(|g| g.len as usize).sum();
                rows.reserve_exact(most);
                vals.reserve_exact(most);
                for seg in segments {
                    cpu::segment_entries(
                        &params.pb,
                        &spots,
                        &self.input.depth_table,
                        &self.input.profiles,
                        &self.keep,
                        seg,
                        |v, d| {
                            rows.push(v);
                            vals.push(d);
                        },
                    );
                }
            },
        )?)
    }

    /// The GPU path: dispatches of at most `evaluations` voxel–spot pairs,
    /// `max_segments` segments and `max_entries` entries.
    fn matrix_gpu(
        &self,
        ctx: &GpuContext,
        evaluations: u64,
        max_segments: usize,
        max_entries: usize,
    ) -> Result<CompressedRows, InfluenceError> {
        use wgpu::BufferUsages as U;
        let pipeline = ctx.pipeline(
            "ion_influence",
            &[ION_PAIR_WGSL, ION_INFLUENCE_WGSL].concat(),
        );
        let (spots, params) = self.spots_and_params(0, 0);
        let spots_buf = ctx.buffer("spots", bytemuck::cast_slice(&spots), U::STORAGE);
        let table = ctx.buffer(
            "depth_table",
            bytemuck::cast_slice(&self.input.depth_table),
            U::STORAGE,
        );
        let profiles = ctx.buffer(
            "profiles",
            bytemuck::cast_slice(&self.input.profiles),
            U::STORAGE,
        );
        let keep = ctx.buffer("keep", bytemuck::cast_slice(&self.keep), U::STORAGE);
        let run = |segments: &[IonSegment], fill: u32, out_words: usize| {
            let p = IonInfluenceParams {
                n_segments: segments.len() as u32,
                fill,
                ..params
            };
            let uniform = ctx.buffer("params", bytemuck::bytes_of(&p), U::UNIFORM);
            let segs = ctx.buffer("segments", bytemuck::cast_slice(segments), U::STORAGE);
            let out = ctx.output("out", (out_words * 4) as u64);
            ctx.run_1d::<u32>(
                &pipeline,
                &[&uniform, &spots_buf, &table, &profiles, &segs, &keep, &out],
                segments.len() as u32,
                &out,
                out_words,
            )
        };
        // Count pass.
        let mut counts = Vec::with_capacity(self.segments.len());
        for batch in batches(&self.segments, evaluations, max_segments, |_| 0, usize::MAX) {
            counts.extend(run(&self.segments[batch.clone()], 0, batch.len())?);
        }
        let total: u64 = counts.iter().map(|c| u64::from(*c)).sum();
        if total > u64::from(u32::MAX) {
            return Err(SparseError::TooManyEntries(total as usize).into());
        }
        // Fill pass, each segment writing from its offset within its dispatch.
        let mut row_start = vec![0u32; spots.len() + 1];
        let (mut col, mut val) = (
            Vec::with_capacity(total as usize),
            Vec::with_capacity(total as usize),
        );
        for batch in batches(
            &self.segments,
            evaluations,
            max_segments,
            |s| counts[s] as usize,
            max_entries,
        ) {
            let mut segments = self.segments[batch.clone()].to_vec();
            let mut at = 0u32;
            for (seg, s) in segments.iter_mut().zip(batch.clone()) {
                seg.offset = at;
                at += counts[s];
                row_start[seg.spot as usize + 1] += counts[s];
            }
            let words = run(&segments, 1, 2 * at as usize)?;
            for pair in words.chunks_exact(2) {
                col.push(pair[0]);
                val.push(f32::from_bits(pair[1]));
            }
        }
        for s in 0..spots.len() {
            row_start[s + 1] += row_start[s];
        }
        Ok(CompressedRows {
            n_cols: n_voxels(&params.pb),
            row_start,
            col,
            val,
        })
    }
}

fn n_voxels(p: &IonPbParams) -> usize {
    p.nx as usize * p.ny as usize * p.nz as usize
}

/// Consecutive ranges of `segments` of at most `evaluations` voxels,
/// `max_segments` segments and `max_entries` entries (`entries(s)` of segment
/// s), each holding at least one segment.
fn batches(
    segments: &[IonSegment],
    evaluations: u64,
    max_segments: usize,
    entries: impl Fn(usize) -> usize,
    max_entries: usize,
) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut first = 0;
    while first < segments.len() {
        let (mut end, mut evals, mut n) = (first, 0u64, 0usize);
        while end < segments.len()
            && (end == first
                || (evals + u64::from(segments[end].len) <= evaluations
                    && end - first < max_segments
                    && n + entries(end) <= max_entries))
        {
            evals += u64::from(segments[end].len);
            n += entries(end);
            end += 1;
        }
        out.push(first..end);
        first = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ion_pb_dose::unit_grid_params;
    use crate::IonPbSpot;

    /// Three spots through a 6×5×4 grid of 1 mm voxels (oblique, along z,
    /// and one whose rows are half kept), every row of every spot a segment.
    fn three_spots() -> (IonPbDose, Vec<IonSegment>, Vec<bool>) {
        let spot = |origin: [f32; 3], dir: [f32; 3], energy| IonPbSpot {
            origin: [origin[0], origin[1], origin[2], 30.0],
            dir: [dir[0], dir[1], dir[2], 7.0],
            sigma_air_mm: 1.2,
            energy,
            profile_offset: 0,
            profile_len: 12,
        };
        let n = (3.0f32).sqrt();
        let input = IonPbDose {
            params: unit_grid_params([-2.5, -2.0, 0.0], [6, 5, 4], 3.0, 0.5),
            spots: vec![
                spot([0.0, 0.0, -1.0], [0.0, 0.0, 1.0], 0),
                spot([-3.0, -3.0, -1.0], [1.0 / n, 1.0 / n, 1.0 / n], 1),
                spot([1.0, 1.0, -1.0], [0.0, 0.0, 1.0], 1),
            ],
            depth_table: (0..22)
                .map(|i| [1.0 + i as f32 * 0.1, 0.05 * i as f32, 4.0, 9.0])
                .collect(),
            profiles: (0..12).map(|i| [i as f32 * 0.9, i as f32 * 0.1]).collect(),
        };
        let segments = (0..3)
            .flat_map(|s| {
                (0..20).map(move |row| IonSegment {
                    spot: s,
                    voxel: row * 6 + (s % 2),
                    len: 6 - (s % 2),
                    offset: 0,
                })
            })
            .collect();
        let keep = (0..120).map(|v| v % 7 != 3).collect();
        (input, segments, keep)
    }

    /// The twin's count and fill passes, with the host's prefix sum, give
    /// the CPU path's matrix bit for bit; its entries are the dose kernel's
    /// per-spot doses (unit weight) at the kept voxels of each spot's segments.
    #[test]
    fn twin_passes_match_the_cpu_path_and_the_dose_kernel() {
        let (input, segments, keep) = three_spots();
        let kernel = IonInfluence::new(&input, segments.clone(), &keep).unwrap();
        let m = kernel.matrix(&Backend::Cpu { reason: None }).unwrap();
        let (spots, mut params) = kernel.spots_and_params(segments.len(), 0);
        let mut counts = vec![0u32; segments.len()];
        let args = (&input.depth_table, &input.profiles, &kernel.keep);
        cpu::ion_influence(
            &params,
            &spots,
            args.0,
            args.1,
            &segments,
            args.2,
            &mut counts,
        );
        let mut placed = segments.clone();
        let mut at = 0;
        for (seg, c) in placed.iter_mut().zip(&counts) {
            seg.offset = at;
            at += c;
        }
        params.fill = 1;
        let mut words = vec![0u32; 2 * at as usize];
        cpu::ion_influence(&params, &spots, args.0, args.1, &placed, args.2, &mut words);
        assert_eq!(at as usize, m.nnz());
        assert!(m.nnz() > 30, "{} entries", m.nnz());
        for (e, pair) in words.chunks_exact(2).enumerate() {
            assert_eq!((pair[0], pair[1]), (m.col[e], m.val[e].to_bits()));
        }
        for s in 0..3 {
            let mut one = input.clone();
            one.spots = vec![input.spots[s]];
            one.spots[0].dir[3] = 1.0;
            let dose = one.dose(&Backend::Cpu { reason: None }).unwrap();
            let (rows, vals) = m.row(s);
            for (v, d) in dose.iter().enumerate() {
                let got = rows
                    .iter()
                    .position(|r| *r as usize == v)
                    .map_or(0.0, |e| vals[e]);
                let covered = v % 6 >= s % 2;
                let want = if keep[v] && covered { *d } else { 0.0 };
                assert_eq!(got, want, "spot {s}, voxel {v}");
            }
        }
    }

    /// Dispatches of at most 9 voxels, 2 segments and 5 entries give the CPU
    /// path's matrix within 1e-5 of its largest entry, every entry in place.
    #[test]
    fn gpu_tiles_match_cpu() {
        let Some(ctx) = GpuContext::for_tests("ion_influence_tiles") else {
            return;
        };
        let (input, segments, keep) = three_spots();
        let kernel = IonInfluence::new(&input, segments, &keep).unwrap();
        let cpu = kernel.matrix(&Backend::Cpu { reason: None }).unwrap();
        let gpu = kernel.matrix_gpu(&ctx, 9, 2, 5).unwrap();
        let max = cpu.val.iter().fold(0.0f32, |m, v| m.max(*v));
        assert_eq!((&gpu.row_start, &gpu.col), (&cpu.row_start, &cpu.col));
        for (a, b) in gpu.val.iter().zip(&cpu.val) {
            assert!((a - b).abs() <= 1e-5 * max, "{a} vs {b}");
        }
    }

    #[test]
    fn refuses_inconsistent_segments() {
        let (input, segments, keep) = three_spots();
        let bad = |segments: Vec<IonSegment>, keep: &[bool]| {
            IonInfluence::new(&input, segments, keep)
                .err()
                .map(|e| e.to_string())
        };
        let mut leaves_row = segments.clone();
        leaves_row[0].len = 7;
        assert!(bad(leaves_row, &keep).unwrap().contains("leave its row"));
        let mut unordered = segments.clone();
        unordered.swap(0, 30);
        assert!(bad(unordered, &keep).unwrap().contains("out of order"));
        assert!(bad(segments.clone(), &keep[1..])
            .unwrap()
            .contains("keep flags"));
    }
}
