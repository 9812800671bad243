//! Planar contours ↔ slice masks, in continuous voxel coordinates of one slice
//! (voxel centres at integers).
//!
//! - [`fill_even_odd`] rasterises a closed polygon at voxel centres; applying it
//!   to every contour of a structure on a slice with XOR gives the even–odd rule
//!   (holes and islands are separate contours).
//! - [`mask_outlines`] gives closed polygons along voxel edges whose even–odd
//!   rasterisation is exactly the mask (used to write RT Structure Sets).

/// XOR-fills the voxel centres inside the closed polygon `poly` (x = i, y = j)
/// into the slice `mask` of `nx × ny` voxels (i fastest). A centre exactly on a
/// left edge counts as inside, on a right edge as outside.
pub fn fill_even_odd(poly: &[[f64; 2]], nx: usize, ny: usize, mask: &mut [bool]) {
    if poly.len() < 3 {
        return;
    }
    let (ymin, ymax) = poly
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p[1]), hi.max(p[1]))
        });
    let j0 = ymin.ceil().max(0.0) as usize;
    let j1 = (ymax.floor().min(ny as f64 - 1.0)).max(-1.0);
    if j1 < 0.0 {
        return;
    }
    let mut xs = Vec::new();
    for j in j0..=(j1 as usize) {
        let y = j as f64;
        xs.clear();
        for (a, b) in poly.iter().zip(poly.iter().cycle().skip(1)) {
            if (a[1] > y) != (b[1] > y) {
                xs.push(a[0] + (y - a[1]) * (b[0] - a[0]) / (b[1] - a[1]));
            }
        }
        xs.sort_by(f64::total_cmp);
        for pair in xs.chunks_exact(2) {
            let i0 = pair[0].ceil().max(0.0) as usize;
            let i1 = pair[1].ceil().min(nx as f64).max(0.0) as usize;
            for i in i0..i1 {
                mask[i + nx * j] ^= true;
            }
        }
    }
}

/// Closed outlines of a slice mask along voxel edges, as polygons in continuous
/// voxel coordinates (corners at half-integers), collinear vertices removed.
pub fn mask_outlines(mask: &[bool], nx: usize, ny: usize) -> Vec<Vec<[f64; 2]>> {
    use std::collections::HashMap;
    let inside = |i: i64, j: i64| {
        i >= 0
            && j >= 0
            && (i as usize) < nx
            && (j as usize) < ny
            && mask[i as usize + nx * j as usize]
    };
    // Directed edges between integer corners (corner (a, b) sits at (a − ½, b − ½)),
    // counter-clockwise around the inside.
    let mut out_edges: HashMap<(i64, i64), Vec<(i64, i64)>> = HashMap::new();
    let mut n_edges = 0usize;
    for j in 0..ny as i64 {
        for i in 0..nx as i64 {
            if !inside(i, j) {
                continue;
            }
            let sides = [
                (!inside(i, j - 1), (i, j), (i + 1, j)),
                (!inside(i + 1, j), (i + 1, j), (i + 1, j + 1)),
                (!inside(i, j + 1), (i + 1, j + 1), (i, j + 1)),
                (!inside(i - 1, j), (i, j + 1), (i, j)),
            ];
            for (open, from, to) in sides {
                if open {
                    out_edges.entry(from).or_default().push(to);
                    n_edges += 1;
                }
            }
        }
    }
    let mut starts: Vec<(i64, i64)> = out_edges.keys().copied().collect();
    starts.sort_unstable();
    let mut loops = Vec::new();
    let mut used = 0usize;
    for start in starts {
        while let Some(next) = out_edges.get_mut(&start).and_then(Vec::pop) {
            let mut corners = vec![start];
            let mut at = next;
            used += 1;
            while at != start {
                corners.push(at);
                at = out_edges
                    .get_mut(&at)
                    .and_then(Vec::pop)
                    .expect("voxel outlines are closed");
                used += 1;
            }
            loops.push(simplify(&corners));
        }
    }
    debug_assert_eq!(used, n_edges);
    loops
}

/// Drops corners that lie on the straight line through their neighbours and
/// converts corners to continuous voxel coordinates.
fn simplify(corners: &[(i64, i64)]) -> Vec<[f64; 2]> {
    let n = corners.len();
    (0..n)
        .filter(|&m| {
            let (p, c, q) = (corners[(m + n - 1) % n], corners[m], corners[(m + 1) % n]);
            (c.0 - p.0) * (q.1 - c.1) - (c.1 - p.1) * (q.0 - c.0) != 0
        })
        .map(|m| [corners[m].0 as f64 - 0.5, corners[m].1 as f64 - 0.5])
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn raster(polys: &[Vec<[f64; 2]>], nx: usize, ny: usize) -> Vec<bool> {
        let mut m = vec![false; nx * ny];
        for p in polys {
            fill_even_odd(p, nx, ny, &mut m);
        }
        m
    }

    #[test]
    fn square_with_hole() {
        let outer = vec![[0.5, 0.5], [6.5, 0.5], [6.5, 6.5], [0.5, 6.5]];
        let hole = vec![[2.5, 2.5], [4.5, 2.5], [4.5, 4.5], [2.5, 4.5]];
        let m = raster(&[outer, hole], 8, 8);
        assert_eq!(m.iter().filter(|b| **b).count(), 36 - 4);
        assert!(!m[3 + 8 * 3] && m[1 + 8]);
    }

    /// Random masks (with holes, islands and diagonal touches) survive
    /// outline extraction and even–odd rasterisation exactly.
    #[test]
    fn outlines_round_trip_random_masks() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for _ in 0..50 {
            let (nx, ny) = (rng.random_range(1..20), rng.random_range(1..20));
            let p = rng.random_range(0.1..0.9);
            let mask: Vec<bool> = (0..nx * ny).map(|_| rng.random_bool(p)).collect();
            let polys = mask_outlines(&mask, nx, ny);
            assert_eq!(raster(&polys, nx, ny), mask);
        }
    }
}
