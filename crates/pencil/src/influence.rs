//! The ion dose-influence matrix: the dose (Gy) per particle of every spot in
//! every voxel it reaches. The voxels each spot may reach (the capsule around
//! its central ray) are found here as row segments; the `ion_influence`
//! kernel evaluates them on the run's backend.

use crate::engine::PencilError;
use crate::reach::{piece_reach2, PIECE_SAMPLES};
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
/// j), that may receive its dose: within the capsule around each piece of its
/// central ray (`reach::piece_reach2`) from its entry to the deepest WED where
/// its depth–dose table is non-zero, and within the span of the row's kept
/// voxels; a row's runs of neighbouring pieces are merged.
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
    let piece_mm = PIECE_SAMPLES as f64 * f64::from(p.profile_step_mm);
    let step_i = grid.axis(0) * grid.spacing_mm()[0];
    let per_spot: Vec<Vec<IonSegment>> = input
        .spots
        .par_iter()
        .enumerate()
        .map(|(n, spot)| {
            let len = spot.profile_len as usize;
            let profile = &input.profiles[spot.profile_offset as usize..][..len];
            let max_wed = row_end_wed[spot.energy as usize];
            // Beyond `t_end` the WED is past the table's end, unless the
            // profile leaves the CT first: there the kernel holds its last
            // WED, and the capsule's cap closes the last piece.
            let (last, held) = match profile.iter().position(|[w, _]| *w >= max_wed) {
                Some(last) => (last, false),
                None => (len - 1, true),
            };
            let t_end = f64::from(last as f32 * p.profile_step_mm);
            let reach2 = piece_reach2(
                &input.depth_table[spot.energy as usize * n_depth..][..n_depth],
                f64::from(p.depth_step_mm),
                f64::from(p.cutoff_sigmas).powi(2),
                f64::from(spot.sigma_air_mm),
                profile,
            );
            let o = Point3::new(
                f64::from(spot.origin[0]),
                f64::from(spot.origin[1]),
                f64::from(spot.origin[2]),
            );
            let d = nalgebra_dir(spot.dir);
            // (row j + ny·k, run of i) of every piece up to `t_end`.
            let mut runs: Vec<(usize, Range<usize>)> = Vec::new();
            for (t_lo, t_hi, r2) in merged_pieces(&reach2, piece_mm, t_end) {
                let reach = r2.sqrt();
                let t_hi = if held && t_hi >= t_end {
                    t_end + reach
                } else {
                    t_hi
                };
                let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
                for end in [o + d * t_lo, o + d * t_hi] {
                    for corner in 0..8 {
                        let c = grid.patient_to_continuous(&(end + nalgebra_offset(corner, reach)));
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
                let box_i = range(0);
                for k in range(2) {
                    for j in range(1) {
                        let row = j + shape[1] * k;
                        let span = &kept_span[row];
                        let within = box_i.start.max(span.start)..box_i.end.min(span.end);
                        if within.is_empty() {
                            continue;
                        }
                        let start = grid.voxel_centre(0, j, k);
                        let run =
                            row_within_reach(&start, &step_i, &o, &d, reach, t_lo..t_hi, &within);
                        if !run.is_empty() {
                            runs.push((row, run));
                        }
                    }
                }
            }
            runs.sort_unstable_by_key(|(row, run)| (*row, run.start));
            let mut segments: Vec<IonSegment> = Vec::with_capacity(runs.len());
            let mut last_row = usize::MAX;
            for (row, run) in runs {
                let (j, k) = (row % shape[1], row / shape[1]);
                let voxel = grid.index(run.start, j, k) as u32;
                match segments.last_mut() {
                    // Overlapping or touching the run before it on its row.
                    Some(s) if last_row == row && voxel <= s.voxel + s.len => {
                        s.len = s.len.max(voxel + run.len() as u32 - s.voxel);
                    }
                    _ => segments.push(IonSegment {
                        spot: n as u32,
                        voxel,
                        len: run.len() as u32,
                        offset: 0,
                    }),
                }
                last_row = row;
            }
            segments
        })
        .collect();
    per_spot.concat()
}

/// Consecutive pieces of squared reach `reach2`, each `piece_mm` of path,
/// up to `t_end` (mm), merged while the largest squared reach of a group is
/// within `MERGE_REACH2` of its smallest: (t from, t to, the group's largest
/// squared reach). A group's index box spans twice its reach in every
/// direction, so many short pieces would cost more rows than they save
/// voxels; merging keeps the narrow entrance apart from the wide peak.
fn merged_pieces(reach2: &[f64], piece_mm: f64, t_end: f64) -> Vec<(f64, f64, f64)> {
    const MERGE_REACH2: f64 = 1.5;
    let mut groups: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (q, r2) in reach2.iter().enumerate() {
        let t_lo = q as f64 * piece_mm;
        if t_lo > t_end {
            break;
        }
        let t_hi = if q + 1 == reach2.len() {
            t_end
        } else {
            (t_lo + piece_mm).min(t_end)
        };
        match groups.last_mut() {
            Some((_, hi, small, large)) if r2.max(*large) <= MERGE_REACH2 * r2.min(*small) => {
                *hi = t_hi;
                *small = small.min(*r2);
                *large = large.max(*r2);
            }
            _ => groups.push((t_lo, t_hi, *r2, *r2)),
        }
    }
    groups
        .into_iter()
        .map(|(lo, hi, _, large)| (lo, hi, large))
        .collect()
}

/// The voxels i of a row (centres `start` + i·`step`, mm) within `reach` of
/// the ray o + t·d and with t in `t` (a piece of the capsule the index box
/// was built around), clipped to `within`, widened by one voxel each side so
/// that f32 rounding in the pair test never loses a voxel. Distance² from the
/// ray and t are a quadratic and a linear function of i.
fn row_within_reach(
    start: &Point3<f64>,
    step: &Vector3<f64>,
    o: &Point3<f64>,
    d: &Vector3<f64>,
    reach: f64,
    t: Range<f64>,
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
    // t(i) = rel·d + i·(step·d) within the piece.
    let (t0, dt) = (rel.dot(d), step.dot(d));
    if dt.abs() > 1e-12 {
        let (ta, tb) = ((t.start - t0) / dt, (t.end - t0) / dt);
        lo = lo.max(ta.min(tb));
        hi = hi.min(ta.max(tb));
    } else if !(t.start..=t.end).contains(&t0) {
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
