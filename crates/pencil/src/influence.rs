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
            let rows = RowGeometry::new(grid, &o, &d);
            // Each piece up to `t_end`: (t range, reach, index box (i, j, k)).
            let pieces: Vec<_> = merged_pieces(&reach2, piece_mm, t_end)
                .into_iter()
                .map(|(t_lo, t_hi, r2)| {
                    let reach = r2.sqrt();
                    let t_hi = if held && t_hi >= t_end {
                        t_end + reach
                    } else {
                        t_hi
                    };
                    let ends = [o + d * t_lo, o + d * t_hi];
                    (t_lo..t_hi, reach, index_box(grid, &ends, reach))
                })
                .collect();
            let union = |a: usize| {
                let l = pieces.iter().map(|p| p.2[a].start).min().unwrap_or(0);
                l..pieces.iter().map(|p| p.2[a].end).max().unwrap_or(0).max(l)
            };
            // Rows in voxel order (k, then j); a row's runs merged where
            // they overlap or touch.
            let mut segments: Vec<IonSegment> = Vec::new();
            let mut runs: Vec<Range<usize>> = Vec::new();
            for k in union(2) {
                for j in union(1) {
                    let span = &kept_span[j + shape[1] * k];
                    runs.clear();
                    let mut row = None;
                    for (t, reach, [bi, bj, bk]) in &pieces {
                        if !bj.contains(&j) || !bk.contains(&k) {
                            continue;
                        }
                        let within = bi.start.max(span.start)..bi.end.min(span.end);
                        if within.is_empty() {
                            continue;
                        }
                        let row = row.get_or_insert_with(|| rows.row(j, k));
                        let run = rows.within_reach(row, *reach, t, &within);
                        if !run.is_empty() {
                            runs.push(run);
                        }
                    }
                    runs.sort_unstable_by_key(|r| r.start);
                    let first = segments.len();
                    for run in runs.drain(..) {
                        let voxel = grid.index(run.start, j, k) as u32;
                        match segments[first..].last_mut() {
                            Some(s) if voxel <= s.voxel + s.len => {
                                s.len = s.len.max(voxel + run.len() as u32 - s.voxel);
                            }
                            _ => segments.push(IonSegment {
                                spot: n as u32,
                                voxel,
                                len: run.len() as u32,
                                offset: 0,
                            }),
                        }
                    }
                }
            }
            segments
        })
        .collect();
    per_spot.concat()
}

/// The grid's index ranges (i, j, k) of the axis-aligned box that holds the
/// cubes of half-size `reach` (mm) about both `ends` of a piece of a ray.
fn index_box(grid: &Grid, ends: &[Point3<f64>; 2], reach: f64) -> [Range<usize>; 3] {
    let shape = grid.shape();
    let (mut lo, mut hi) = ([f64::MAX; 3], [f64::MIN; 3]);
    for end in ends {
        for corner in 0..8 {
            let c = grid.patient_to_continuous(&(end + nalgebra_offset(corner, reach)));
            for a in 0..3 {
                lo[a] = lo[a].min(c[a]);
                hi[a] = hi[a].max(c[a]);
            }
        }
    }
    std::array::from_fn(|a| {
        let l = lo[a].floor().max(0.0) as usize;
        let h = (hi[a].ceil().max(-1.0) as i64).min(shape[a] as i64 - 1);
        l..(h + 1).max(l as i64) as usize
    })
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

/// How much (mm) `RowGeometry::within_reach` widens a piece's radius and extent so
/// that the kernel's f32 rounding (~1e-4 mm at 1 m from the origin) never
/// puts a voxel inside that the f64 search left out.
const ROUNDING_MARGIN_MM: f64 = 0.01;

/// The rows of a grid seen from one spot's central ray o + t·d (mm): the
/// centre of voxel (i, j, k) minus o is c₀ + i·sᵢ + j·sⱼ + k·sₖ, so its cross
/// and dot products with d, the distance from the ray and t, are linear in
/// i, j and k.
struct RowGeometry {
    /// (c₀ × d, c₀ · d) and the same of sᵢ, sⱼ, sₖ.
    cross: [Vector3<f64>; 4],
    dot: [f64; 4],
    /// |sᵢ × d|² (the i² term of the distance² from the ray) and its
    /// reciprocal; 1/(sᵢ · d), voxels of i per mm along the ray.
    bb: f64,
    inv_bb: f64,
    inv_dt: f64,
}

/// One row (j, k) of a `RowGeometry`: at voxel i the cross product is
/// a + i·b, so distance² = |a|² + 2i·(a·b) + i²·|b|², and t = t₀ + i·(sᵢ·d).
struct Row {
    ab: f64,
    aa: f64,
    t0: f64,
}

impl RowGeometry {
    fn new(grid: &Grid, o: &Point3<f64>, d: &Vector3<f64>) -> Self {
        let c0 = grid.voxel_centre(0, 0, 0) - o;
        let s = |a: usize| grid.axis(a) * grid.spacing_mm()[a];
        let v = [c0, s(0), s(1), s(2)];
        let cross = v.map(|v| v.cross(d));
        let (bb, dot) = (cross[1].norm_squared(), v.map(|v| v.dot(d)));
        RowGeometry {
            bb,
            inv_bb: 1.0 / bb,
            inv_dt: 1.0 / dot[1],
            cross,
            dot,
        }
    }

    /// Row (j, k)'s terms, shared by the pieces whose boxes hold it.
    fn row(&self, j: usize, k: usize) -> Row {
        let (jf, kf) = (j as f64, k as f64);
        let [c0, b, cj, ck] = &self.cross;
        let a = c0 + cj * jf + ck * kf;
        let [d0, _, dj, dk] = self.dot;
        Row {
            ab: a.dot(b),
            aa: a.norm_squared(),
            t0: d0 + dj * jf + dk * kf,
        }
    }

    /// The voxels i of `row` within `reach` of the ray and with t in `t` (a
    /// piece of the capsule the index box was built around), both widened
    /// by `ROUNDING_MARGIN_MM`, clipped to `within`: distance² from the ray
    /// is a quadratic in i, t a linear function of it.
    fn within_reach(
        &self,
        row: &Row,
        reach: f64,
        t: &Range<f64>,
        within: &Range<usize>,
    ) -> Range<usize> {
        let reach = reach + ROUNDING_MARGIN_MM;
        let (t_lo, t_hi) = (t.start - ROUNDING_MARGIN_MM, t.end + ROUNDING_MARGIN_MM);
        let (bb, ab, aa) = (self.bb, row.ab, row.aa - reach * reach);
        let (mut lo, mut hi) = (within.start as f64, within.end as f64 - 1.0);
        if bb > 1e-12 {
            let disc = ab * ab - bb * aa;
            if disc < 0.0 {
                return 0..0;
            }
            let root = disc.sqrt();
            lo = lo.max((-ab - root) * self.inv_bb);
            hi = hi.min((-ab + root) * self.inv_bb);
        } else if aa > 0.0 {
            return 0..0;
        }
        // t(i) = t₀ + i·(sᵢ·d) within the piece.
        let (t0, dt) = (row.t0, self.dot[1]);
        if dt.abs() > 1e-12 {
            let (ta, tb) = ((t_lo - t0) * self.inv_dt, (t_hi - t0) * self.inv_dt);
            lo = lo.max(ta.min(tb));
            hi = hi.min(ta.max(tb));
        } else if !(t_lo..=t_hi).contains(&t0) {
            return 0..0;
        }
        // lo ≥ 0 (it starts at `within.start`): ceil and floor by
        // truncation, which needs no libm call.
        if hi < lo {
            return 0..0;
        }
        let first = lo as usize + usize::from((lo as usize as f64) < lo);
        first..hi as usize + 1
    }
}

fn nalgebra_dir(d: [f32; 4]) -> Vector3<f64> {
    Vector3::new(f64::from(d[0]), f64::from(d[1]), f64::from(d[2]))
}

/// Corner `n` (0..8) of a cube of half-size `r` centred on the origin.
fn nalgebra_offset(n: usize, r: f64) -> Vector3<f64> {
    let s = |bit: usize| if n >> bit & 1 == 1 { r } else { -r };
    Vector3::new(s(0), s(1), s(2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    /// For random rays, radii and pieces: every voxel of a row that the
    /// kernel's f32 test (`ion_pair`: t = d·u ≥ the piece's start, |d × u|² ≤
    /// reach²) puts inside is in `within_reach`'s run, and every voxel of
    /// the run lies within reach + 2·`ROUNDING_MARGIN_MM` of the piece (f64).
    #[test]
    fn row_runs_hold_every_voxel_within_reach() {
        let grid = Grid::axial(
            [30, 30, 30],
            [2.5, 3.0, 2.0],
            Point3::new(-41.0, -37.5, -29.0),
        )
        .unwrap();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let (mut inside, mut extra) = (0usize, 0usize);
        for _ in 0..200 {
            let o = Point3::new(
                rng.random_range(-60.0..60.0),
                rng.random_range(-60.0..60.0),
                rng.random_range(-60.0..60.0),
            );
            let d = Vector3::new(
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
                rng.random_range(-1.0..1.0),
            )
            .normalize();
            let reach: f64 = rng.random_range(1.0..20.0);
            let t0: f64 = rng.random_range(0.0..60.0);
            let t = t0..t0 + rng.random_range(5.0..40.0);
            let rows = RowGeometry::new(&grid, &o, &d);
            let [nx, ny, nz] = grid.shape();
            for (j, k) in (0..ny).flat_map(|j| (0..nz).map(move |k| (j, k))) {
                let run = rows.within_reach(&rows.row(j, k), reach, &t, &(0..nx));
                for i in 0..nx {
                    let c = grid.voxel_centre(i, j, k);
                    let (p, of, u) = (
                        c.map(|v| v as f32),
                        o.map(|v| v as f32),
                        d.map(|v| v as f32),
                    );
                    let rel = p - of;
                    let (tf, r2) = (rel.dot(&u), rel.cross(&u).norm_squared());
                    let kernel_in = r2 <= (reach * reach) as f32
                        && (t.start as f32..=t.end as f32).contains(&tf);
                    if kernel_in {
                        inside += 1;
                        assert!(
                            run.contains(&i),
                            "voxel {i} of row ({j}, {k}) lost: {run:?}"
                        );
                    }
                    if run.contains(&i) {
                        let rel = c - o;
                        let m = reach + 2.0 * ROUNDING_MARGIN_MM;
                        assert!(rel.cross(&d).norm() <= m, "voxel {i} beyond the reach");
                        assert!(rel.dot(&d) >= t.start - m && rel.dot(&d) <= t.end + m);
                        extra += usize::from(!kernel_in);
                    }
                }
            }
        }
        eprintln!("{inside} voxels inside, {extra} more in the runs");
        assert!(inside > 10_000, "{inside}");
    }
}
