// Piecewise-linear lookup: out[i] = f(values[i]), where f interpolates linearly
// between knots (x ascending) and is constant beyond the first and last knot.
// Used for CT calibration curves (HU -> density, HU -> RSP).
// CPU twin (specification and test oracle): crates/gpu/src/cpu/piecewise_linear.rs

struct Params {
    n_values: u32,
    n_knots: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> knots: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;

fn lookup(x: f32) -> f32 {
    let n = params.n_knots;
    if (x <= knots[0].x) {
        return knots[0].y;
    }
    if (x >= knots[n - 1u].x) {
        return knots[n - 1u].y;
    }
    // Last knot with knot.x <= x.
    var lo = 0u;
    var hi = n - 1u;
    while (hi - lo > 1u) {
        let mid = (lo + hi) / 2u;
        if (knots[mid].x <= x) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let a = knots[lo];
    let b = knots[hi];
    let t = (x - a.x) / (b.x - a.x);
    return a.y + t * (b.y - a.y);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = gid.x + gid.y * groups.x * WORKGROUP;
    if (i >= params.n_values) {
        return;
    }
    out[i] = lookup(values[i]);
}
