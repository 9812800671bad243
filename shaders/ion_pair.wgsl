// The dose of one ion spot at one point, shared by the ion kernels
// (ion_pb_dose.wgsl, ion_influence.wgsl are each compiled after this file):
//   weight · [core(WED) · G(r; σ) + tail(WED) · G(r; √(σ² + σ_tail²))],
//   G(r; s) = exp(−r²/2s²) / (2πs²),   σ² = σ_air² + σ_MCS²,
// where WED and σ_MCS are read at the point's projection on the spot's
// central ray from the spot's profile (WED, and the multiple-scattering σ
// from Fermi–Eyges moments along that ray), and r is the point's distance
// from the ray. core + tail is the IDD: the primaries' part and the lateral
// tail's (protons' nuclear halo, carbon fragments), whose σ_tail the depth
// table also holds. Each Gaussian is cut off at its own multiple of its σ:
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

// Centre (mm) of voxel (i, j, k).
fn voxel_centre(p: Params, ijk: vec3<u32>) -> vec3<f32> {
    return p.grid_origin.xyz + f32(ijk.x) * p.step_i.xyz + f32(ijk.y) * p.step_j.xyz
        + f32(ijk.z) * p.step_k.xyz;
}

// Dose of `spot` at `pos` (mm) per gy_per_unit; 0 beyond its cut-off. Steps
// and σ² enter as reciprocals: one division per Gaussian (as in the twin).
fn pair_dose(p: Params, spot: Spot, pos: vec3<f32>) -> f32 {
    let d = pos - spot.origin.xyz;
    let t = dot(d, spot.dir.xyz);
    if (t < 0.0) {
        return 0.0;
    }
    let c = cross(d, spot.dir.xyz);
    let r2 = dot(c, c);
    if (r2 > spot.origin.w) {
        return 0.0;
    }
    let at = profile_at(spot.profile_offset, spot.profile_len, t * (1.0 / p.profile_step_mm));
    let xd = at.x * (1.0 / p.depth_step_mm);
    if (xd >= f32(p.n_depth - 1u)) {
        return 0.0;
    }
    let sm = at.y;
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
