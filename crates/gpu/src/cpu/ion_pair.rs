//! CPU twin of `shaders/ion_pair.wgsl`: the dose of one ion spot at one point,
//! shared by the ion kernels' twins, in the same f32 arithmetic.

use crate::kernels::{IonPbParams, IonPbSpot};

#[inline(always)]
fn lerp(table: &[f32], base: usize, x: f32) -> f32 {
    let i = x.floor() as usize;
    let f = x - i as f32;
    table[base + i] + f * (table[base + i + 1] - table[base + i])
}

/// (WED, σ_MCS) at fractional sample `x` of a profile; the last sample beyond its end.
#[inline(always)]
fn profile_at(profiles: &[[f32; 2]], offset: usize, len: usize, x: f32) -> [f32; 2] {
    if x >= (len - 1) as f32 {
        return profiles[offset + len - 1];
    }
    let i = x.floor() as usize;
    let f = x - i as f32;
    let (a, b) = (profiles[offset + i], profiles[offset + i + 1]);
    [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])]
}

/// Voxel `v`'s (i, j, k) (linear index, i fastest) on the grid of `p`.
pub(super) fn voxel_ijk(p: &IonPbParams, v: u32) -> [u32; 3] {
    [v % p.nx, (v / p.nx) % p.ny, v / (p.nx * p.ny)]
}

/// Centre (mm) of voxel (i, j, k) of the grid of `p`.
#[inline(always)]
pub(super) fn voxel_centre(p: &IonPbParams, ijk: [u32; 3]) -> [f32; 3] {
    let steps = [&p.step_i, &p.step_j, &p.step_k];
    super::grid_point(&p.grid_origin, steps, ijk.map(|n| n as f32))
}

/// Dose of `spot` at `pos` (mm) per `gy_per_unit`: weight · IDD(WED) ·
/// exp(−r²/2σ²)/(2πσ²), 0 beyond the spot's cut-off.
#[inline(always)]
pub(super) fn pair_dose(
    p: &IonPbParams,
    spot: &IonPbSpot,
    idd: &[f32],
    profiles: &[[f32; 2]],
    pos: [f32; 3],
) -> f32 {
    let d: [f32; 3] = std::array::from_fn(|a| pos[a] - spot.origin[a]);
    let dir = [spot.dir[0], spot.dir[1], spot.dir[2]];
    let t = d[0] * dir[0] + d[1] * dir[1] + d[2] * dir[2];
    if t < 0.0 {
        return 0.0;
    }
    let c = [
        d[1] * dir[2] - d[2] * dir[1],
        d[2] * dir[0] - d[0] * dir[2],
        d[0] * dir[1] - d[1] * dir[0],
    ];
    let r2 = c[0] * c[0] + c[1] * c[1] + c[2] * c[2];
    if r2 > spot.origin[3] {
        return 0.0;
    }
    let [wed, sm] = profile_at(
        profiles,
        spot.profile_offset as usize,
        spot.profile_len as usize,
        t / p.profile_step_mm,
    );
    let xd = wed / p.depth_step_mm;
    if xd >= (p.n_depth - 1) as f32 {
        return 0.0;
    }
    let base = (spot.energy * p.n_depth) as usize;
    let s2 = spot.sigma_air_mm * spot.sigma_air_mm + sm * sm;
    if r2 > p.cutoff_sigmas * p.cutoff_sigmas * s2 {
        return 0.0;
    }
    spot.dir[3] * lerp(idd, base, xd) * (-0.5 * r2 / s2).exp() / (std::f32::consts::TAU * s2)
}
