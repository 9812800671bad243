// Photon dose-influence entries: the dose (Gy per unit fluence weight) of
// listed fluence elements at listed voxels, for influence matrices whose
// columns are single elements (beamlets). The host lists, per element, the
// voxels within its lateral cut-off and splits the lists into runs; one thread
// per run evaluates pair_dose (photon_pair.wgsl, compiled before this file)
// at each voxel of its run and writes one value per listed voxel.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/photon_influence.rs

struct InfluenceParams {
    pb: Params,
    n_runs: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

struct Run {
    element: u32,
    // The run's voxels are voxels[first .. first + count] (this dispatch's
    // slice of the list); its doses go to the same places of `out`.
    first: u32,
    count: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> params: InfluenceParams;
@group(0) @binding(5) var<storage, read> runs: array<Run>;
// Voxels as (i, j, k) packed i | j << 11 | k << 22 (no division per voxel).
@group(0) @binding(6) var<storage, read> voxels: array<u32>;
@group(0) @binding(7) var<storage, read_write> out: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = gid.x + gid.y * groups.x * WORKGROUP;
    if (r >= params.n_runs) {
        return;
    }
    let run = runs[r];
    let e = elements[run.element];
    for (var c = run.first; c < run.first + run.count; c = c + 1u) {
        let ijk = voxels[c];
        let pos = voxel_centre(params.pb, ijk & 0x7ffu, (ijk >> 11u) & 0x7ffu, ijk >> 22u);
        out[c] = pair_dose(params.pb, e, pos) * params.pb.gy_per_unit;
    }
}
