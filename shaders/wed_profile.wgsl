// Ray casting: the water-equivalent depth (WED) along each ray through a
// scaling volume (relative stopping power for ions, relative electron density
// for photons), sampled every `step` mm from where the ray enters the volume.
// One thread per ray walks the voxels in order (Amanatides and Woo 1987) and
// accumulates scale × path length; a sample beyond the exit keeps the total.
// Rays are given in index coordinates: voxel (i, j, k) spans [i, i + 1) ×
// [j, j + 1) × [k, k + 1).
// CPU twin (specification and test oracle): crates/gpu/src/cpu/wed_profile.rs

struct Params {
    nx: u32,
    ny: u32,
    nz: u32,
    n_rays: u32,
}

struct WedRay {
    // Index coordinates of the entry point; w = sample step (mm).
    entry: vec4<f32>,
    // Index coordinates per mm along the ray; w unused.
    dir: vec4<f32>,
    // First sample of this ray in `out`, and its number of samples.
    offset: u32,
    n_samples: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> rays: array<WedRay>;
@group(0) @binding(2) var<storage, read> scale: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;
const FAR: f32 = 3.0e38;

// Where the walk along one axis first crosses a voxel boundary (mm), and the
// distance between crossings, for coordinate `a` in voxel `c`, `d` per mm.
fn first_crossing(a: f32, c: i32, d: f32) -> f32 {
    if (d > 0.0) {
        return (f32(c + 1) - a) / d;
    }
    if (d < 0.0) {
        return (f32(c) - a) / d;
    }
    return FAR;
}

fn crossing_step(d: f32) -> f32 {
    if (d == 0.0) {
        return FAR;
    }
    return 1.0 / abs(d);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = gid.x + gid.y * groups.x * WORKGROUP;
    if (r >= params.n_rays) {
        return;
    }
    let ray = rays[r];
    let a = ray.entry.xyz;
    let d = ray.dir.xyz;
    let n = vec3<i32>(i32(params.nx), i32(params.ny), i32(params.nz));
    // The voxel just after the entry point.
    var c = clamp(vec3<i32>(floor(a + d * 1.0e-4)), vec3<i32>(0), n - vec3<i32>(1));
    var t_next = vec3<f32>(first_crossing(a.x, c.x, d.x), first_crossing(a.y, c.y, d.y), first_crossing(a.z, c.z, d.z));
    let t_delta = vec3<f32>(crossing_step(d.x), crossing_step(d.y), crossing_step(d.z));
    let step = vec3<i32>(sign(d));
    var t_cur = 0.0;
    var acc = 0.0;
    var inside = true;
    for (var k = 0u; k < ray.n_samples; k = k + 1u) {
        let t = f32(k) * ray.entry.w;
        loop {
            let t_min = min(t_next.x, min(t_next.y, t_next.z));
            if (!inside || t_min > t) {
                break;
            }
            acc = acc + scale[u32(c.x + n.x * (c.y + n.y * c.z))] * (t_min - t_cur);
            t_cur = t_min;
            if (t_next.x <= t_next.y && t_next.x <= t_next.z) {
                c.x = c.x + step.x;
                t_next.x = t_next.x + t_delta.x;
            } else if (t_next.y <= t_next.z) {
                c.y = c.y + step.y;
                t_next.y = t_next.y + t_delta.y;
            } else {
                c.z = c.z + step.z;
                t_next.z = t_next.z + t_delta.z;
            }
            inside = all(c >= vec3<i32>(0)) && all(c < n);
        }
        var wed = acc;
        if (inside) {
            wed = acc + scale[u32(c.x + n.x * (c.y + n.y * c.z))] * (t - t_cur);
        }
        out[ray.offset + k] = wed;
    }
}
