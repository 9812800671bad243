//! CPU twin of `shaders/ion_pair.wgsl`: the dose of one ion spot at one point,
//! shared by the ion kernels' twins, in the same f32 arithmetic.

use crate::kernels::{IonPbParams, IonPbSpot};

#[inline(always)]
fn lerp_depth(table: &[[f32; 4]], base: usize, x: f32) -> [f32; 4] {
    // x ≥ 0 (a WED): truncation is the shader's floor, without a libm call.
    let i = x as usize;
    let f = x - i as f32;
    let (a, b) = (table[base + i], table[base + i + 1]);
    std::array::from_fn(|c| a[c] + f * (b[c] - a[c]))
}

/// (WED, σ_MCS) at fractional sample `x` of a profile; the last sample beyond its end.
#[inline(always)]
fn profile_at(profiles: &[[f32; 2]], offset: usize, len: usize, x: f32) -> [f32; 2] {
    if x >= (len - 1) as f32 {
        return profiles[offset + len - 1];
    }
    // x ≥ 0 (the caller returns for t < 0): truncation is floor.
    let i = x as usize;
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

/// Dose of `spot` at `pos` (mm) per `gy_per_unit`: weight · [core(WED) ·
/// G(r; σ) + tail(WED) · G(r; √(σ² + σ_tail²))], G(r; s) = exp(−r²/2s²)/(2πs²),
/// each Gaussian 0 beyond its cut-off; `depth_table` holds (core, tail,
/// σ_tail, the tail's squared cut-off in its σ) per energy and WED sample.
#[inline(always)]
pub(super) fn pair_dose(
    p: &IonPbParams,
    spot: &IonPbSpot,
    depth_table: &[[f32; 4]],
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
        t * (1.0 / p.profile_step_mm),
    );
    let xd = wed * (1.0 / p.depth_step_mm);
    if xd >= (p.n_depth - 1) as f32 {
        return 0.0;
    }
    let s2 = spot.sigma_air_mm * spot.sigma_air_mm + sm * sm;
    let table = lerp_depth(depth_table, (spot.energy * p.n_depth) as usize, xd);
    let mut lateral = 0.0;
    if r2 <= p.cutoff_sigmas * p.cutoff_sigmas * s2 {
        let inv = 1.0 / s2;
        lateral = table[0] * (-0.5 * r2 * inv).exp() * (inv * (1.0 / std::f32::consts::TAU));
    }
    let t2 = s2 + table[2] * table[2];
    if table[1] > 0.0 && r2 < table[3] * t2 {
        let inv = 1.0 / t2;
        lateral += table[1] * (-0.5 * r2 * inv).exp() * (inv * (1.0 / std::f32::consts::TAU));
    }
    spot.dir[3] * lateral
}
