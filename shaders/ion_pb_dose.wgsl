// Ion pencil-beam dose: for every voxel, the sum over spots of the spot's
// dose there (pair_dose, ion_pair.wgsl, which is compiled before this file),
// in Gy.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/ion_pb_dose.rs

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(4) var<storage, read_write> dose: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let local = gid.x + gid.y * groups.x * WORKGROUP;
    if (local >= params.n_voxels) {
        return;
    }
    let ijk = voxel_ijk(params, params.voxel_offset + local);
    var total = 0.0;
    for (var s = 0u; s < params.n_spots; s = s + 1u) {
        let spot = spots[s];
        total = total + pair_dose(params, spot, spot_at(spot, spot_row(spot, ijk.y, ijk.z), ijk.x));
    }
    dose[local] = total * params.gy_per_unit;
}
