//! CPU twin of `shaders/ion_pair.wgsl`: the dose of one ion spot at one point,
//! shared by the ion kernels' twins, in the same f32 arithmetic.

use crate::kernels::{IonKernelSpot, IonPbParams};

/// floor(x) and x − floor(x) for x ≥ 0 (a WED or a distance along the ray),
/// by truncation through i32: the shader's `floor`, without a libm call and
/// with one conversion instruction each way.
#[inline(always)]
fn floor_frac(x: f32) -> (usize, f32) {
    let i = x as i32;
    (i as usize, x - i as f32)
}

#[inline(always)]
fn lerp_depth(table: &[[f32; 4]], base: usize, x: f32) -> [f32; 4] {
    let (i, f) = floor_frac(x);
    let (a, b) = (table[base + i], table[base + i + 1]);
    std::array::from_fn(|c| a[c] + f * (b[c] - a[c]))
}

/// (WED, σ_MCS) at fractional sample `x` of a profile; the last sample beyond its end.
#[inline(always)]
fn profile_at(profiles: &[[f32; 2]], offset: usize, len: usize, x: f32) -> [f32; 2] {
    if x >= (len - 1) as f32 {
        return profiles[offset + len - 1];
    }
    // x ≥ 0: the caller returns for t < 0.
    let (i, f) = floor_frac(x);
    let (a, b) = (profiles[offset + i], profiles[offset + i + 1]);
    [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])]
}

/// Voxel `v`'s (i, j, k) (linear index, i fastest) on the grid of `p`.
pub(super) fn voxel_ijk(p: &IonPbParams, v: u32) -> [u32; 3] {
    [v % p.nx, (v / p.nx) % p.ny, v / (p.nx * p.ny)]
}

/// (c − origin) × dir and · dir at voxel (0, j, k) of `spot`'s row (j, k),
/// c the voxel's centre (`IonKernelSpot`).
#[inline(always)]
pub(super) fn spot_row(spot: &IonKernelSpot, j: u32, k: u32) -> [f32; 4] {
    let (fj, fk) = (j as f32, k as f32);
    let [_, pj, pk] = &spot.per_ijk;
    std::array::from_fn(|a| spot.at_voxel0[a] + fj * pj[a] + fk * pk[a])
}

/// The same at voxel i of that row.
#[inline(always)]
pub(super) fn spot_at(spot: &IonKernelSpot, row: &[f32; 4], i: u32) -> [f32; 4] {
    let fi = i as f32;
    std::array::from_fn(|a| row[a] + fi * spot.per_ijk[0][a])
}

/// Dose of `spot` per `gy_per_unit` at the point whose cross product with
/// the ray is `at[..3]` and whose distance along it is t = `at[3]`
/// (`spot_at`): weight · [core(WED) · G(r; σ) + tail(WED) · G(r; √(σ² +
/// σ_tail²))], G(r; s) = exp(−r²/2s²)/(2πs²), each Gaussian 0 beyond its
/// cut-off; `depth_table` holds (core, tail, σ_tail, the tail's squared
/// cut-off in its σ) per energy and WED sample.
#[inline(always)]
pub(super) fn pair_dose(
    p: &IonPbParams,
    spot: &IonKernelSpot,
    depth_table: &[[f32; 4]],
    profiles: &[[f32; 2]],
    at: [f32; 4],
) -> f32 {
    let t = at[3];
    if t < 0.0 {
        return 0.0;
    }
    let r2 = at[0] * at[0] + at[1] * at[1] + at[2] * at[2];
    let spot = &spot.spot;
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
