//! CPU twin of `shaders/wed_profile.wgsl`: same parameters, same buffers,
//! same f32 walk. The specification the GPU kernel is tested against.

use crate::kernels::{WedProfileParams, WedRay};
use rayon::prelude::*;

const FAR: f32 = 3.0e38;

fn first_crossing(a: f32, c: i32, d: f32) -> f32 {
    if d > 0.0 {
        ((c + 1) as f32 - a) / d
    } else if d < 0.0 {
        (c as f32 - a) / d
    } else {
        FAR
    }
}

fn crossing_step(d: f32) -> f32 {
    if d == 0.0 {
        FAR
    } else {
        1.0 / d.abs()
    }
}

/// WED (mm) of every sample of every ray into `out` (each ray's samples at
/// its offset): the cumulative scale × path length from the entry point.
pub fn wed_profile(params: &WedProfileParams, rays: &[WedRay], scale: &[f32], out: &mut [f32]) {
    let rays = &rays[..params.n_rays as usize];
    // Each ray's samples as one disjoint slice of `out`, in ray order.
    let mut order: Vec<usize> = (0..rays.len()).collect();
    order.sort_by_key(|r| rays[*r].offset);
    let mut slices: Vec<(usize, &mut [f32])> = Vec::with_capacity(rays.len());
    let mut rest = out;
    let mut at = 0usize;
    for r in order {
        let (offset, n) = (rays[r].offset as usize, rays[r].n_samples as usize);
        let (_, tail) = rest.split_at_mut(offset - at);
        let (mine, tail) = tail.split_at_mut(n);
        slices.push((r, mine));
        rest = tail;
        at = offset + n;
    }
    let n = [params.nx as i32, params.ny as i32, params.nz as i32];
    slices
        .into_par_iter()
        .for_each(|(r, samples)| walk(&rays[r], n, scale, samples));
}

/// One ray: the body of the kernel's thread.
fn walk(ray: &WedRay, n: [i32; 3], scale: &[f32], samples: &mut [f32]) {
    let a = [ray.entry[0], ray.entry[1], ray.entry[2]];
    let d = [ray.dir[0], ray.dir[1], ray.dir[2]];
    let mut c: [i32; 3] =
        std::array::from_fn(|k| ((a[k] + d[k] * 1.0e-4).floor() as i32).clamp(0, n[k] - 1));
    let mut t_next: [f32; 3] = std::array::from_fn(|k| first_crossing(a[k], c[k], d[k]));
    let t_delta: [f32; 3] = std::array::from_fn(|k| crossing_step(d[k]));
    let step: [i32; 3] = std::array::from_fn(|k| {
        if d[k] > 0.0 {
            1
        } else if d[k] < 0.0 {
            -1
        } else {
            0
        }
    });
    let index = |c: &[i32; 3]| (c[0] + n[0] * (c[1] + n[1] * c[2])) as usize;
    let (mut t_cur, mut acc, mut inside) = (0.0f32, 0.0f32, true);
    for (k, out) in samples.iter_mut().enumerate() {
        let t = k as f32 * ray.entry[3];
        loop {
            let t_min = t_next[0].min(t_next[1].min(t_next[2]));
            if !inside || t_min > t {
                break;
            }
            acc += scale[index(&c)] * (t_min - t_cur);
            t_cur = t_min;
            let axis = if t_next[0] <= t_next[1] && t_next[0] <= t_next[2] {
                0
            } else if t_next[1] <= t_next[2] {
                1
            } else {
                2
            };
            c[axis] += step[axis];
            t_next[axis] += t_delta[axis];
            inside = (0..3).all(|k| c[k] >= 0 && c[k] < n[k]);
        }
        *out = if inside {
            acc + scale[index(&c)] * (t - t_cur)
        } else {
            acc
        };
    }
}
