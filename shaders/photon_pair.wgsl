// The dose of one rectangular photon fluence element at one point, shared by
// the photon kernels (photon_pb_dose.wgsl, photon_influence.wgsl are each
// compiled after this file):
//   Φ · (SAD/z)² · I(d) · Σ_g w_g(d) · B(u, h_u, s_g) · B(v, h_v, s_g),
// where z is the voxel's distance from the source along the beam axis, (u, v)
// its offset from the element centre projected to the isocentre plane, d the
// radiological depth on the element's central ray, I(d) the kernel's
// integrated depth dose (MeV·cm²/g per photon), w_g(d) the weights of its
// Gaussians of width σ_g (scaled to the isocentre plane by SAD/z and widened
// by the source σ), and B(x, h, s) the share of a Gaussian of width s within
// [−h, h] (for elements small against the Gaussian, 2h times its value at
// x). Lengths in mm, Φ in photons per mm²; the caller multiplies by
// gy_per_unit for Gy.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/photon_pair.rs

struct Params {
    grid_origin: vec4<f32>,
    step_i: vec4<f32>,
    step_j: vec4<f32>,
    step_k: vec4<f32>,
    nx: u32,
    ny: u32,
    nz: u32,
    n_elements: u32,
    n_depth: u32,
    voxel_offset: u32,
    n_voxels: u32,
    _pad0: u32,
    depth_step_mm: f32,
    profile_step_mm: f32,
    source_sigma_mm: f32,
    gy_per_unit: f32,
    sigma_a: vec4<f32>,
    sigma_b: vec4<f32>,
}

struct Element {
    // w = fluence (photons per mm² in the isocentre plane).
    source: vec4<f32>,
    // w = centre u (mm).
    bev_x: vec4<f32>,
    // w = centre v (mm).
    bev_y: vec4<f32>,
    // Source → isocentre (unit); w = source-to-axis distance (mm).
    axis: vec4<f32>,
    // Central ray (unit); w = distance from the source where its profile starts.
    ray: vec4<f32>,
    half_u: f32,
    half_v: f32,
    profile_offset: u32,
    profile_len: u32,
}

@group(0) @binding(1) var<storage, read> elements: array<Element>;
@group(0) @binding(2) var<storage, read> idd: array<f32>;
@group(0) @binding(3) var<storage, read> weights: array<f32>;
@group(0) @binding(4) var<storage, read> profiles: array<f32>;

const GAUSSIANS: u32 = 6u;
const FRAC_1_SQRT_2: f32 = 0.70710677;
const TWO_PI: f32 = 6.2831855;
// Elements with half-width ≤ this × the Gaussian's width are points
// (B(x, h, s) ≈ 2h·g(x, s), error about (h/s)²/6 per axis).
const POINT_RATIO: f32 = 0.15;

// erf after Abramowitz and Stegun 7.1.28 (error 3e-7; up to 1.6e-6 in f32): 1 - p(x)^-16,
// |x| clamped at 6 (erf = 1 in f32 there) so the power stays finite.
fn erf(x: f32) -> f32 {
    let a = min(abs(x), 6.0);
    let p = 1.0 + a * (0.07052308 + a * (0.04228201 + a * (0.009270527 + a * (0.0001520143 + a * (0.0002765672 + a * 0.0000430638)))));
    let p2 = p * p;
    let p4 = p2 * p2;
    let p8 = p4 * p4;
    let y = 1.0 - 1.0 / (p8 * p8);
    return select(-y, y, x >= 0.0);
}

fn box_share(x: f32, h: f32, s: f32) -> f32 {
    let k = FRAC_1_SQRT_2 / s;
    return 0.5 * (erf((x + h) * k) - erf((x - h) * k));
}

fn sigma(p: Params, g: u32) -> f32 {
    if (g < 4u) {
        return p.sigma_a[g];
    }
    return p.sigma_b[g - 4u];
}

// Dose of element `e` at `pos` (mm) per gy_per_unit.
fn pair_dose(p: Params, e: Element, pos: vec3<f32>) -> f32 {
    let d = pos - e.source.xyz;
    let zs = dot(e.axis.xyz, d);
    if (zs <= 0.0) {
        return 0.0;
    }
    let scale = e.axis.w / zs;
    let u = dot(e.bev_x.xyz, d) * scale - e.bev_x.w;
    let v = dot(e.bev_y.xyz, d) * scale - e.bev_y.w;
    let t = dot(e.ray.xyz, d) - e.ray.w;
    let xp = max(t / p.profile_step_mm, 0.0);
    var wed: f32;
    if (xp >= f32(e.profile_len - 1u)) {
        wed = profiles[e.profile_offset + e.profile_len - 1u];
    } else {
        let i = u32(xp);
        let f = xp - f32(i);
        let a = profiles[e.profile_offset + i];
        wed = a + f * (profiles[e.profile_offset + i + 1u] - a);
    }
    let x = wed / p.depth_step_mm;
    if (x >= f32(p.n_depth - 1u)) {
        return 0.0;
    }
    let k = u32(x);
    let f = x - f32(k);
    let src2 = p.source_sigma_mm * p.source_sigma_mm;
    var lateral = 0.0;
    for (var g = 0u; g < GAUSSIANS; g = g + 1u) {
        let sk = sigma(p, g) * scale;
        let s = sqrt(sk * sk + src2);
        if (abs(u) - e.half_u > 6.0 * s || abs(v) - e.half_v > 6.0 * s) {
            continue;
        }
        let i = k * GAUSSIANS + g;
        let w = weights[i] + f * (weights[i + GAUSSIANS] - weights[i]);
        if (max(e.half_u, e.half_v) <= POINT_RATIO * s) {
            // Small element against the Gaussian: area × the Gaussian's value.
            let s2 = s * s;
            lateral = lateral + w * 4.0 * e.half_u * e.half_v * exp(-0.5 * (u * u + v * v) / s2) / (TWO_PI * s2);
        } else {
            lateral = lateral + w * box_share(u, e.half_u, s) * box_share(v, e.half_v, s);
        }
    }
    let i_d = idd[k] + f * (idd[k + 1u] - idd[k]);
    return e.source.w * scale * scale * i_d * lateral;
}

// Centre (mm) of voxel (i, j, k).
fn voxel_centre(p: Params, i: u32, j: u32, k: u32) -> vec3<f32> {
    return p.grid_origin.xyz + f32(i) * p.step_i.xyz + f32(j) * p.step_j.xyz + f32(k) * p.step_k.xyz;
}
