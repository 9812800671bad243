//! The ion dose-influence matrix: the dose (Gy) per particle of every spot in
//! every voxel it reaches. The voxels each spot may reach (the capsule around
//! its central ray) are found here as row segments; the `ion_influence`
//! kernel evaluates them on the run's backend. The spots' wide lateral tail
//! can be evaluated on a coarser lattice and interpolated
//! (`influence_matrix_coarse_tail`).

use crate::engine::{on_grid, PencilError};
use crate::reach::{piece_reach2, PIECE_SAMPLES};
use ferrodose_gpu::{Backend, CompressedRows, IonInfluence, IonPbDose, IonSegment};
use ferrodose_grid::{Grid, Point3, Vector3};
use ferrodose_optimise::{CoarsePart, InfluenceMatrix};
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
    let segments = reach_segments(input, grid, keep, 0..input.spots.len());
    let kernel = IonInfluence::new(input, segments, keep)?;
    Ok(InfluenceMatrix {
        by_column: kernel.matrix(backend)?,
        coarse: None,
    })
}

/// Spots whose segments are held at once by [`dose_by_segments`].
const SPOTS_PER_PASS: usize = 1024;

/// The dose (Gy) of `input`'s weighted spots on every voxel of `grid` (the
/// grid `input` was made for), on the CPU: every voxel within each spot's
/// reach (its segments) is evaluated once and added, as A·w without storing
/// A (`IonInfluence::add_weighted_cpu`). The same pairs as the `ion_pb_dose`
/// kernel, which tests every voxel against every spot; the sums differ by
/// f32 rounding only.
pub fn dose_by_segments(input: &IonPbDose, grid: &Grid) -> Result<Vec<f32>, PencilError> {
    let keep = vec![true; grid.len()];
    let mut dose = vec![0.0f32; grid.len()];
    for first in (0..input.spots.len()).step_by(SPOTS_PER_PASS) {
        let spots = first..(first + SPOTS_PER_PASS).min(input.spots.len());
        let segments = reach_segments(input, grid, &keep, spots);
        IonInfluence::new(input, segments, &keep)?.add_weighted_cpu(&mut dose);
    }
    Ok(dose)
}

/// The default spacing (mm) of the lattice on which the influence matrix
/// evaluates the spots' lateral tail where it is that wide: the protons'
/// halo has σ ≥ 10 mm from 73 mm of range (about 100 MeV) on
/// (`docs/pencil-beam.md`).
pub const TAIL_LATTICE_MM: f64 = 10.0;

/// Builds A = F + P·H for the spots of `input` on `grid`, keeping voxels
/// where `keep` is true, on `backend`: H holds the lateral tail (protons'
/// nuclear halo) of the energies whose tail is wide, σ_tail ≥ the lattice's
/// largest spacing wherever it has dose, on the lattice of every n-th voxel
/// (`tail_lattice`, spacing at most `tail_spacing_mm` per axis), and P
/// interpolates it trilinearly onto the kept voxels; F holds everything
/// else (the core Gaussian of every spot, the tail of the other energies,
/// such as the carbon fragments' σ of a few mm) on the dose grid. A wide
/// tail varies little between nodes, and far fewer of its pairs are
/// evaluated and stored. Where no axis allows a stride above 1, or no
/// energy's tail is that wide, this is `influence_matrix`.
pub fn influence_matrix_coarse_tail(
    input: &IonPbDose,
    grid: &Grid,
    keep: &[bool],
    tail_spacing_mm: f64,
    backend: &Backend,
) -> Result<InfluenceMatrix, PencilError> {
    let stride = tail_stride(grid, tail_spacing_mm);
    let lattice = tail_lattice(grid, stride);
    let wide = wide_tails(input, lattice.spacing_mm().into_iter().fold(0.0, f64::max));
    if stride == [1; 3] || !wide.contains(&true) {
        return influence_matrix(input, grid, keep, backend);
    }
    assert_eq!(keep.len(), grid.len(), "one keep flag per voxel");
    let interpolation = interpolation(grid, &lattice, stride, keep);
    let mut node_keep = vec![false; lattice.len()];
    for n in &interpolation.col {
        node_keep[*n as usize] = true;
    }
    let n_depth = input.params.n_depth as usize;
    let split = |on_lattice: bool| -> Vec<[f32; 4]> {
        input
            .depth_table
            .iter()
            .enumerate()
            .map(|(n, t)| match (wide[n / n_depth], on_lattice) {
                (true, false) => [t[0], 0.0, t[2], 0.0],
                (true, true) => [0.0, t[1], t[2], t[3]],
                (false, false) => *t,
                (false, true) => [0.0; 4],
            })
            .collect()
    };
    let mut part = input.clone();
    part.depth_table = split(false);
    let fine = influence_matrix(&part, grid, keep, backend)?;
    part.depth_table = split(true);
    part.params = on_grid(&input.params, &lattice);
    let mut segments = reach_segments(&part, &lattice, &node_keep, 0..part.spots.len());
    segments.retain(|s| wide[input.spots[s.spot as usize].energy as usize]);
    let tail = IonInfluence::new(&part, segments, &node_keep)?.matrix(backend)?;
    Ok(fine
        .with_coarse(CoarsePart {
            by_column: tail,
            interpolation,
        })
        .expect("the tail's lattice and interpolation are built to fit"))
}

/// Per energy row of `input`'s depth table: whether its tail is wide enough
/// for a lattice of `spacing_mm`: σ_tail ≥ `spacing_mm` at every depth where
/// the tail has dose (and it has some).
fn wide_tails(input: &IonPbDose, spacing_mm: f64) -> Vec<bool> {
    input
        .depth_table
        .chunks(input.params.n_depth as usize)
        .map(|row| {
            let mut tail = row.iter().filter(|t| t[1] > 0.0).peekable();
            tail.peek().is_some() && tail.all(|t| f64::from(t[2]) >= spacing_mm)
        })
        .collect()
}

/// Per axis, the voxels between two nodes of the tail's lattice: the most
/// whose span is at most `spacing_mm` (+1e-6 mm), at least 1.
pub fn tail_stride(grid: &Grid, spacing_mm: f64) -> [usize; 3] {
    grid.spacing_mm()
        .map(|s| ((spacing_mm + 1e-6) / s).floor().max(1.0) as usize)
}

/// The lattice of every `stride[a]`-th voxel centre of `grid` along axis a
/// (same first centre and axes), extended so that its last node lies at or
/// beyond the grid's last voxel.
pub fn tail_lattice(grid: &Grid, stride: [usize; 3]) -> Grid {
    let (shape, spacing) = (grid.shape(), grid.spacing_mm());
    Grid::new(
        std::array::from_fn(|a| (shape[a] - 1).div_ceil(stride[a]) + 1),
        std::array::from_fn(|a| spacing[a] * stride[a] as f64),
        grid.origin_mm(),
        [grid.axis(0), grid.axis(1), grid.axis(2)],
    )
    .expect("a lattice of a valid grid's centres is valid")
}

/// P: for each kept voxel of `grid`, the nodes of `lattice` (every
/// `stride`-th voxel) around its centre and their trilinear weights (an
/// axis where the voxel is a node's own contributes that node alone);
/// empty rows for the other voxels. Slices (k) are filled in parallel and
/// appended in order.
fn interpolation(grid: &Grid, lattice: &Grid, stride: [usize; 3], keep: &[bool]) -> CompressedRows {
    let [nx, ny, _] = grid.shape();
    // Per axis and index: the (node, weight) pairs, the second with weight 0
    // where the index is a node's own.
    let axis = |a: usize| -> Vec<[(usize, f32); 2]> {
        (0..grid.shape()[a])
            .map(|i| {
                let (q, r) = (i / stride[a], i % stride[a]);
                let f = r as f32 / stride[a] as f32;
                [(q, 1.0 - f), (q + 1, f)]
            })
            .collect()
    };
    let [x, y, z] = [axis(0), axis(1), axis(2)];
    // Per slice: entries per row, node indices, weights.
    let slices: Vec<(Vec<u32>, Vec<u32>, Vec<f32>)> = keep
        .par_chunks(nx * ny)
        .enumerate()
        .map(|(k, slice)| {
            let (mut len, mut col, mut val) = (Vec::with_capacity(slice.len()), vec![], vec![]);
            for (n, kept) in slice.iter().enumerate() {
                let before = col.len();
                if *kept {
                    let (i, j) = (n % nx, n / nx);
                    for (nk, wk) in z[k].iter().filter(|n| n.1 > 0.0) {
                        for (nj, wj) in y[j].iter().filter(|n| n.1 > 0.0) {
                            for (ni, wi) in x[i].iter().filter(|n| n.1 > 0.0) {
                                col.push(lattice.index(*ni, *nj, *nk) as u32);
                                val.push(wi * wj * wk);
                            }
                        }
                    }
                }
                len.push((col.len() - before) as u32);
            }
            (len, col, val)
        })
        .collect();
    let nnz = slices.iter().map(|s| s.1.len()).sum();
    let mut p = CompressedRows {
        n_cols: lattice.len(),
        row_start: Vec::with_capacity(grid.len() + 1),
        col: Vec::with_capacity(nnz),
        val: Vec::with_capacity(nnz),
    };
    p.row_start.push(0);
    for (len, col, val) in slices {
        for l in len {
            p.row_start.push(p.row_start[p.row_start.len() - 1] + l);
        }
        p.col.extend(col);
        p.val.extend(val);
    }
    p
}

/// Per spot, in spot order: the runs of voxels along i, row by row (k, then
/// j), that may receive its dose: within the capsule around each piece of its
/// central ray (`reach::piece_reach2`) from its entry to the deepest WED where
/// its depth–dose table is non-zero, and within the span of the row's kept
/// voxels; a row's runs of neighbouring pieces are merged. For the spots
/// in `spots` (indices into `input.spots`).
fn reach_segments(
    input: &IonPbDose,
    grid: &Grid,
    keep: &[bool],
    spots: Range<usize>,
) -> Vec<IonSegment> {
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
    let first_spot = spots.start;
    let per_spot: Vec<Vec<IonSegment>> = input.spots[spots]
        .par_iter()
        .enumerate()
        .map(|(n, spot)| {
            let n = first_spot + n;
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
            // The pieces' boxes' union along axis a (an empty box, beyond
            // the grid, adds nothing).
            let union = |a: usize| {
                let boxes = pieces.iter().map(|p| &p.2[a]).filter(|r| !r.is_empty());
                let l = boxes.clone().map(|r| r.start).min().unwrap_or(0);
                l..boxes.map(|r| r.end).max().unwrap_or(0).max(l)
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

    /// On an oblique grid with strides (2, 3, 1) from a 10 mm lattice
    /// spacing (`tail_stride`): each kept voxel's weights sum to 1 and
    /// interpolate a linear function of position exactly (1e-4 mm), the
    /// lattice's last nodes lie at or beyond the grid's last voxels, and
    /// voxels that are not kept have no row.
    #[test]
    fn interpolation_is_trilinear_on_the_lattice() {
        let axes = [
            Vector3::new(1.0, 1.0, 0.0).normalize(),
            Vector3::new(-1.0, 1.0, 0.0).normalize(),
            Vector3::z(),
        ];
        let grid = Grid::new(
            [11, 8, 5],
            [4.5, 3.3, 12.0],
            Point3::new(-20.0, 5.0, 3.0),
            axes,
        )
        .unwrap();
        let stride = tail_stride(&grid, 10.0);
        assert_eq!(stride, [2, 3, 1]);
        let lattice = tail_lattice(&grid, stride);
        assert_eq!(lattice.shape(), [6, 4, 5]);
        let keep: Vec<bool> = (0..grid.len()).map(|v| v % 3 != 0).collect();
        let p = interpolation(&grid, &lattice, stride, &keep);
        let f = |x: &Point3<f64>| 0.3 * x.x - 1.7 * x.y + 2.9 * x.z + 11.0;
        for (v, kept) in keep.iter().enumerate() {
            let (nodes, weights) = p.row(v);
            if !kept {
                assert!(nodes.is_empty());
                continue;
            }
            let [i, j, k] = grid.ijk(v);
            let sum: f64 = weights.iter().map(|w| f64::from(*w)).sum();
            let at: f64 = nodes
                .iter()
                .zip(weights)
                .map(|(n, w)| {
                    let [a, b, c] = lattice.ijk(*n as usize);
                    f64::from(*w) * f(&lattice.voxel_centre(a, b, c))
                })
                .sum();
            assert!((sum - 1.0).abs() < 1e-6, "voxel {v}: weights sum to {sum}");
            assert!(
                (at - f(&grid.voxel_centre(i, j, k))).abs() < 1e-4,
                "voxel {v}"
            );
            assert!(nodes.len() <= 8);
        }
    }
}
