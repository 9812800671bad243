// The dose of one ion spot at one point, shared by the ion kernels
// (ion_pb_dose.wgsl, ion_influence.wgsl are each compiled after this file):
//   weight · [core(WED) · G(r; σ) + tail(WED) · G(r; √(σ² + σ_tail²))],
//   G(r; s) = exp(−r²/2s²) / (2πs²),   σ² = σ_air² + σ_MCS²,
// where WED and σ_MCS are read at the point's projection t on the spot's
// central ray from the spot's profile (WED, and the multiple-scattering σ
// from Fermi–Eyges moments along that ray), and r is the point's distance
// from the ray. For the centre of voxel (i, j, k), (centre − origin) × dir
// (length r) and (centre − origin) · dir (= t) are linear in i, j, k: the
// host gives each spot their terms on the dose grid, and both kernels add
// them in one order (spot_row, then spot_at), so the matrix kernel, which
// walks rows along i, and the dose kernel evaluate the same numbers.
// core + tail is the IDD: the primaries' part and the lateral tail's
// (protons' nuclear halo, carbon fragments), whose σ_tail the depth table
// also holds. Each Gaussian is cut off at its own multiple of its σ:
// the core at cutoff_sigmas, the tail at the table's √w.
// IDD in MeV·cm²/g per particle, lengths in mm; the caller multiplies by
// gy_per_unit for Gy.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/ion_pair.rs

struct Params {
    grid_origin: vec4<f32>,
    step_i: vec4<f32>,
    step_j: vec4<f32>,
    step_k: vec4<f32>,
    nx: u32,
    ny: u32,
    nz: u32,
    n_spots: u32,
    n_depth: u32,
    voxel_offset: u32,
    n_voxels: u32,
    _pad0: u32,
    depth_step_mm: f32,
    profile_step_mm: f32,
    cutoff_sigmas: f32,
    gy_per_unit: f32,
}

struct Spot {
    // Start of the central ray (mm); w = squared radius (mm²) beyond which the
    // spot deposits nothing at any depth (the larger of the core's and the
    // tail's cut-off radius, over the spot's depths).
    origin: vec4<f32>,
    // Unit direction; w = weight (particles).
    dir: vec4<f32>,
    sigma_air_mm: f32,
    energy: u32,
    profile_offset: u32,
    profile_len: u32,
    // (centre − origin) × dir (xyz, mm) and · dir (w, mm) at voxel (0, 0, 0)
    // and their steps per unit of i, j and k.
    at_voxel0: vec4<f32>,
    per_i: vec4<f32>,
    per_j: vec4<f32>,
    per_k: vec4<f32>,
}

@group(0) @binding(1) var<storage, read> spots: array<Spot>;
// Per energy, every depth_step_mm of WED: (core IDD, tail IDD, σ_tail mm,
// the tail's squared cut-off in units of its σ).
@group(0) @binding(2) var<storage, read> depth_table: array<vec4<f32>>;
// Per spot, along its ray every profile_step_mm: (WED, σ_MCS), both mm.
@group(0) @binding(3) var<storage, read> profiles: array<vec2<f32>>;

const TWO_PI: f32 = 6.283185307179586;

// Linear interpolation at fractional index x in [0, len − 1].
fn lerp_depth(base: u32, x: f32) -> vec4<f32> {
    let i = u32(floor(x));
    let f = x - f32(i);
    return depth_table[base + i] + f * (depth_table[base + i + 1u] - depth_table[base + i]);
}

// (WED, σ_MCS) at fractional sample x of a profile; the last sample beyond its end.
fn profile_at(offset: u32, len: u32, x: f32) -> vec2<f32> {
    let last = f32(len - 1u);
    if (x >= last) {
        return profiles[offset + len - 1u];
    }
    let i = u32(floor(x));
    let f = x - f32(i);
    return profiles[offset + i] + f * (profiles[offset + i + 1u] - profiles[offset + i]);
}

// (i, j, k) of voxel v (linear index, i fastest).
fn voxel_ijk(p: Params, v: u32) -> vec3<u32> {
    return vec3<u32>(v % p.nx, (v / p.nx) % p.ny, v / (p.nx * p.ny));
}

// (centre − origin) × dir and · dir at voxel (0, j, k) of `spot`'s row (j, k).
fn spot_row(spot: Spot, j: u32, k: u32) -> vec4<f32> {
    return spot.at_voxel0 + f32(j) * spot.per_j + f32(k) * spot.per_k;
}

// The same at voxel i of that row.
fn spot_at(spot: Spot, row: vec4<f32>, i: u32) -> vec4<f32> {
    return row + f32(i) * spot.per_i;
}

// Dose of `spot` per gy_per_unit at the point whose cross product with the
// ray is at.xyz and whose t is at.w (spot_at); 0 beyond its cut-off. Steps
// and σ² enter as reciprocals: one division per Gaussian (as in the twin).
fn pair_dose(p: Params, spot: Spot, at: vec4<f32>) -> f32 {
    let t = at.w;
    if (t < 0.0) {
        return 0.0;
    }
    let r2 = dot(at.xyz, at.xyz);
    if (r2 > spot.origin.w) {
        return 0.0;
    }
    let prof = profile_at(spot.profile_offset, spot.profile_len, t * (1.0 / p.profile_step_mm));
    let xd = prof.x * (1.0 / p.depth_step_mm);
    if (xd >= f32(p.n_depth - 1u)) {
        return 0.0;
    }
    let sm = prof.y;
    let s2 = spot.sigma_air_mm * spot.sigma_air_mm + sm * sm;
    let table = lerp_depth(spot.energy * p.n_depth, xd);
    var lateral = 0.0;
    if (r2 <= p.cutoff_sigmas * p.cutoff_sigmas * s2) {
        let inv = 1.0 / s2;
        lateral = table.x * exp(-0.5 * r2 * inv) * (inv * (1.0 / TWO_PI));
    }
    let t2 = s2 + table.z * table.z;
    if (table.y > 0.0 && r2 < table.w * t2) {
        let inv = 1.0 / t2;
        lateral = lateral + table.y * exp(-0.5 * r2 * inv) * (inv * (1.0 / TWO_PI));
    }
    return spot.dir.w * lateral;
}
