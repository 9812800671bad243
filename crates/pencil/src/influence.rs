//! The ion dose-influence matrix: the dose (Gy) per particle of every spot in
//! every voxel it reaches. The voxels each spot may reach (the capsule around
//! its central ray) are found here as row segments; the `ion_influence`
//! kernel evaluates them on the run's backend.

use crate::engine::PencilError;
use ferrodose_gpu::{Backend, IonInfluence, IonPbDose, IonSegment};
use ferrodose_grid::{Grid, Point3, Vector3};
use ferrodose_optimise::InfluenceMatrix;
use rayon::prelude::*;
use std::ops::Range;

/// Builds A for the spots of `input` on `grid` (the grid `input` was made
/// for), keeping voxels where `keep` is true, on `backend`.
pub fn influence_matrix(
    input: &IonPbDose,
    grid: &Grid,
    keep: &[bool],
    backend: &Backend,
) -> Result<InfluenceMatrix, PencilError> {
    assert_eq!(keep.len(), grid.len(), "one keep flag per voxel");
    let kernel = IonInfluence::new(input, reach_segments(input, grid, keep), keep)?;
    Ok(InfluenceMatrix {
        by_column: kernel.matrix(backend)?,
    })
}

/// Per spot, in spot order: the runs of voxels along i, row by row (k, then
/// j), within the capsule around its central ray from its entry to the
/// deepest WED where its depth–dose table is non-zero, widened by its reach,
/// and within the span of the row's kept voxels.
fn reach_segments(input: &IonPbDose, grid: &Grid, keep: &[bool]) -> Vec<IonSegment> {
    let p = &input.params;
    let shape = grid.shape();
    // Per row (j + ny·k): the span of i from its first to its last kept voxel.
    let kept_span: Vec<Range<usize>> = keep
        .par_chunks(shape[0])
        .map(|row| match row.iter().position(|k| *k) {
            Some(first) => first..row.iter().rposition(|k| *k).map_or(first, |l| l + 1),
            None => 0..0,
        })
        .collect();
    // Per energy row: the deepest WED (mm) where its depth–dose table is
    // non-zero; beyond it every pair of the row is zero.
    let n_depth = p.n_depth as usize;
    let row_end_wed: Vec<f32> = input
        .depth_table
        .chunks(n_depth)
        .map(|row| {
            let last = row
                .iter()
                .rposition(|d| d[0] != 0.0 || d[1] != 0.0)
                .map_or(0, |i| i + 1);
            last.min(n_depth - 1) as f32 * p.depth_step_mm
        })
        .collect();
    let per_spot: Vec<Vec<IonSegment>> = input
        .spots
        .par_iter()
        .enumerate()
        .map(|(n, spot)| {
            let len = spot.profile_len as usize;
            let profile = &input.profiles[spot.profile_offset as usize..][..len];
            let max_wed = row_end_wed[spot.energy as usize];
            let last = profile
                .iter()
                .position(|[w, _]| *w >= max_wed)
                .unwrap_or(len - 1);
            let t_end = f64::from(last as f32 * p.profile_step_mm);
            let reach = f64::from(spot.origin[3]).sqrt();
            let o = Point3::new(
                f64::from(spot.origin[0]),
                f64::from(spot.origin[1]),
                f64::from(spot.origin[2]),
            );
            let d = nalgebra_dir(spot.dir);
            let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
            for end in [o, o + d * t_end] {
                for corner in 0..8 {
                    let q = end + nalgebra_offset(corner, reach);
                    let c = grid.patient_to_continuous(&q);
                    for a in 0..3 {
                        lo[a] = lo[a].min(c[a]);
                        hi[a] = hi[a].max(c[a]);
                    }
                }
            }
            let range = |a: usize| {
                let l = lo[a].floor().max(0.0) as usize;
                let h = (hi[a].ceil().max(-1.0) as i64).min(shape[a] as i64 - 1);
                l..(h + 1).max(l as i64) as usize
            };
            let mut segments = Vec::new();
            let step_i = grid.axis(0) * grid.spacing_mm()[0];
            let box_i = range(0);
            for k in range(2) {
                for j in range(1) {
                    let span = &kept_span[j + shape[1] * k];
                    let within = box_i.start.max(span.start)..box_i.end.min(span.end);
                    if within.is_empty() {
                        continue;
                    }
                    let row_start = grid.voxel_centre(0, j, k);
                    let run = row_within_reach(&row_start, &step_i, &o, &d, reach, t_end, &within);
                    if !run.is_empty() {
                        segments.push(IonSegment {
                            spot: n as u32,
                            voxel: grid.index(run.start, j, k) as u32,
                            len: run.len() as u32,
                            offset: 0,
                        });
                    }
                }
            }
            segments
        })
        .collect();
    per_spot.concat()
}

/// The voxels i of a row (centres `start` + i·`step`, mm) within `reach` of
/// the ray o + t·d and with t in −`reach`..`t_end` + `reach` (the capsule the
/// index box was built around), clipped to `within`, widened by one voxel
/// each side so that f32 rounding in the pair test never loses a voxel.
/// Distance² from the ray and t are a quadratic and a linear function of i.
fn row_within_reach(
    start: &Point3<f64>,
    step: &Vector3<f64>,
    o: &Point3<f64>,
    d: &Vector3<f64>,
    reach: f64,
    t_end: f64,
    within: &Range<usize>,
) -> Range<usize> {
    let rel = start - o;
    let (a, b) = (rel.cross(d), step.cross(d));
    let (bb, ab, aa) = (
        b.norm_squared(),
        a.dot(&b),
        a.norm_squared() - reach * reach,
    );
    let (mut lo, mut hi) = (within.start as f64, within.end as f64 - 1.0);
    if bb > 1e-12 {
        let disc = ab * ab - bb * aa;
        if disc < 0.0 {
            return 0..0;
        }
        let root = disc.sqrt();
        lo = lo.max((-ab - root) / bb);
        hi = hi.min((-ab + root) / bb);
    } else if aa > 0.0 {
        return 0..0;
    }
    // t(i) = rel·d + i·(step·d) within −reach..t_end + reach: the capsule
    // around the ray (beyond the end of a profile that leaves the CT early
    // the kernel holds the last WED).
    let (t0, dt) = (rel.dot(d), step.dot(d));
    let (t_lo, t_hi) = (-reach, t_end + reach);
    if dt.abs() > 1e-12 {
        let (ta, tb) = ((t_lo - t0) / dt, (t_hi - t0) / dt);
        lo = lo.max(ta.min(tb));
        hi = hi.min(ta.max(tb));
    } else if !(t_lo..=t_hi).contains(&t0) {
        return 0..0;
    }
    if hi < lo - 2.0 {
        return 0..0;
    }
    let first = ((lo.floor() - 1.0).max(within.start as f64)) as usize;
    let last = ((hi.ceil() + 1.0).min(within.end as f64 - 1.0)) as usize;
    first..(last + 1).max(first)
}

fn nalgebra_dir(d: [f32; 4]) -> Vector3<f64> {
    Vector3::new(f64::from(d[0]), f64::from(d[1]), f64::from(d[2]))
}

/// Corner `n` (0..8) of a cube of half-size `r` centred on the origin.
fn nalgebra_offset(n: usize, r: f64) -> Vector3<f64> {
    let s = |bit: usize| if n >> bit & 1 == 1 { r } else { -r };
    Vector3::new(s(0), s(1), s(2))
}
