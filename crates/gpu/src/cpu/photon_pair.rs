//! CPU twin of `shaders/photon_pair.wgsl`: the dose of one rectangular photon
//! fluence element at one point, shared by the photon kernels' twins, in the
//! same f32 arithmetic.

use crate::kernels::{PhotonPbElement, PhotonPbParams, PHOTON_KERNEL_GAUSSIANS};

/// erf(x) after Abramowitz and Stegun 7.1.28, as in the shader:
/// 1 − (1 + a₁x + … + a₆x⁶)⁻¹⁶ for x ≥ 0, odd in x; |x| is clamped at 6
/// (erf = 1 in f32 there) so the 16th power stays finite. Error 3e-7 in exact
/// arithmetic, up to 1.6e-6 in f32 near 0. No exponential: the kernel
/// evaluates up to 24 of these per voxel–element pair.
pub fn erf(x: f32) -> f32 {
    let a = x.abs().min(6.0);
    let p = 1.0
        + a * (0.070_523_08
            + a * (0.042_282_01
                + a * (0.009_270_527
                    + a * (0.000_152_014_3 + a * (0.000_276_567_2 + a * 0.000_043_063_8)))));
    let p2 = p * p;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    (1.0 - 1.0 / (p8 * p8)).copysign(x)
}

/// Share of a unit 1-D Gaussian of width `s` centred at `x` that falls in
/// [−h, h]: ½[erf((x + h)/√2s) − erf((x − h)/√2s)].
#[inline(always)]
fn box_share(x: f32, h: f32, s: f32) -> f32 {
    let k = std::f32::consts::FRAC_1_SQRT_2 / s;
    0.5 * (erf((x + h) * k) - erf((x - h) * k))
}

/// Below this ratio of element half-width to Gaussian width an element is
/// treated as a point: the relative error of B(x, h, s) ≈ 2h·g(x, s) is about
/// (h/s)²/6 per axis, 0.4 % at 0.15.
const POINT_RATIO: f32 = 0.15;

#[inline(always)]
fn lerp(table: &[f32], i: usize, stride: usize, f: f32) -> f32 {
    table[i] + f * (table[i + stride] - table[i])
}

/// Dose (per unit `gy_per_unit`) of one fluence element at position `pos`
/// (mm): the body of the kernels' element loops.
pub fn photon_pair_dose(
    p: &PhotonPbParams,
    e: &PhotonPbElement,
    idd: &[f32],
    weights: &[f32],
    profiles: &[f32],
    pos: [f32; 3],
) -> f32 {
    let dot = |a: [f32; 4], b: [f32; 3]| a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    let d: [f32; 3] = std::array::from_fn(|a| pos[a] - e.source[a]);
    let zs = dot(e.axis, d);
    if zs <= 0.0 {
        return 0.0;
    }
    let scale = e.axis[3] / zs;
    let u = dot(e.bev_x, d) * scale - e.bev_x[3];
    let v = dot(e.bev_y, d) * scale - e.bev_y[3];
    let t = dot(e.ray, d) - e.ray[3];
    let (offset, len) = (e.profile_offset as usize, e.profile_len as usize);
    let xp = (t / p.profile_step_mm).max(0.0);
    let wed = if xp >= (len - 1) as f32 {
        profiles[offset + len - 1]
    } else {
        let i = xp as usize;
        lerp(profiles, offset + i, 1, xp - i as f32)
    };
    let x = wed / p.depth_step_mm;
    if x >= (p.n_depth - 1) as f32 {
        return 0.0;
    }
    let (k, f) = (x as usize, x - (x as usize) as f32);
    let src2 = p.source_sigma_mm * p.source_sigma_mm;
    let mut lateral = 0.0;
    for g in 0..PHOTON_KERNEL_GAUSSIANS {
        let sk = p.sigma_mm[g] * scale;
        let s = (sk * sk + src2).sqrt();
        if u.abs() - e.half_u > 6.0 * s || v.abs() - e.half_v > 6.0 * s {
            continue;
        }
        let w = lerp(
            weights,
            k * PHOTON_KERNEL_GAUSSIANS + g,
            PHOTON_KERNEL_GAUSSIANS,
            f,
        );
        lateral += if e.half_u.max(e.half_v) <= POINT_RATIO * s {
            // The element is small against the Gaussian: its area times the
            // Gaussian's value at the voxel (error about (h/s)²/6 per axis).
            let s2 = s * s;
            w * 4.0 * e.half_u * e.half_v * (-0.5 * (u * u + v * v) / s2).exp()
                / (std::f32::consts::TAU * s2)
        } else {
            w * box_share(u, e.half_u, s) * box_share(v, e.half_v, s)
        };
    }
    e.source[3] * scale * scale * lerp(idd, k, 1, f) * lateral
}

/// Centre (mm) of voxel (i, j, k) of the grid of `p`.
#[inline(always)]
pub(super) fn voxel_centre(p: &PhotonPbParams, ijk: [u32; 3]) -> [f32; 3] {
    let steps = [&p.step_i, &p.step_j, &p.step_k];
    super::grid_point(&p.grid_origin, steps, ijk.map(|n| n as f32))
}
