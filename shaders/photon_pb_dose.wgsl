// Photon pencil-beam dose: for every voxel, the sum over the fluence elements
// of their dose there (pair_dose, photon_pair.wgsl, which is compiled before
// this file), in Gy.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/photon_pb_dose.rs

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(5) var<storage, read_write> dose: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let local = gid.x + gid.y * groups.x * WORKGROUP;
    if (local >= params.n_voxels) {
        return;
    }
    let v = params.voxel_offset + local;
    let pos = voxel_centre(params, v % params.nx, (v / params.nx) % params.ny, v / (params.nx * params.ny));
    var total = 0.0;
    for (var n = 0u; n < params.n_elements; n = n + 1u) {
        total = total + pair_dose(params, elements[n], pos);
    }
    dose[local] = total * params.gy_per_unit;
}
