// Ion pencil-beam dose: for every voxel, the sum over spots of
//   weight · IDD(WED) · exp(−r²/2σ²) / (2πσ²),   σ² = σ_air² + σ_MCS²,
// where WED and σ_MCS are read at the voxel's projection on the spot's
// central ray from the spot's profile (WED, and the multiple-scattering σ
// from Fermi–Eyges moments along that ray), and r is the voxel's distance
// from the ray. IDD in MeV·cm²/g per particle, lengths in mm, dose in Gy.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/ion_pb_dose.rs

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
    // spot deposits nothing at any depth: cut-off² × (σ_air² + max σ_MCS²).
    origin: vec4<f32>,
    // Unit direction; w = weight (particles).
    dir: vec4<f32>,
    sigma_air_mm: f32,
    energy: u32,
    profile_offset: u32,
    profile_len: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> spots: array<Spot>;
@group(0) @binding(2) var<storage, read> idd: array<f32>;
// Per spot, along its ray every profile_step_mm: (WED, σ_MCS), both mm.
@group(0) @binding(3) var<storage, read> profiles: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> dose: array<f32>;

const WORKGROUP: u32 = 256u;
const TWO_PI: f32 = 6.283185307179586;

// Linear interpolation at fractional index x in [0, len − 1].
fn lerp_idd(base: u32, x: f32) -> f32 {
    let i = u32(floor(x));
    let f = x - f32(i);
    return idd[base + i] + f * (idd[base + i + 1u] - idd[base + i]);
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

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let local = gid.x + gid.y * groups.x * WORKGROUP;
    if (local >= params.n_voxels) {
        return;
    }
    let v = params.voxel_offset + local;
    let ix = v % params.nx;
    let iy = (v / params.nx) % params.ny;
    let iz = v / (params.nx * params.ny);
    let p = params.grid_origin.xyz + f32(ix) * params.step_i.xyz + f32(iy) * params.step_j.xyz
        + f32(iz) * params.step_k.xyz;
    let depth_last = f32(params.n_depth - 1u);
    var total = 0.0;
    for (var s = 0u; s < params.n_spots; s = s + 1u) {
        let spot = spots[s];
        let d = p - spot.origin.xyz;
        let t = dot(d, spot.dir.xyz);
        if (t < 0.0) {
            continue;
        }
        let c = cross(d, spot.dir.xyz);
        let r2 = dot(c, c);
        if (r2 > spot.origin.w) {
            continue;
        }
        let at = profile_at(spot.profile_offset, spot.profile_len, t / params.profile_step_mm);
        let xd = at.x / params.depth_step_mm;
        if (xd >= depth_last) {
            continue;
        }
        let base = spot.energy * params.n_depth;
        let sm = at.y;
        let s2 = spot.sigma_air_mm * spot.sigma_air_mm + sm * sm;
        if (r2 > params.cutoff_sigmas * params.cutoff_sigmas * s2) {
            continue;
        }
        total = total + spot.dir.w * lerp_idd(base, xd) * exp(-0.5 * r2 / s2) / (TWO_PI * s2);
    }
    dose[local] = total * params.gy_per_unit;
}
