// Ion dose-influence matrix: the dose (Gy per particle) of each spot in each
// voxel it reaches, as compressed columns (one per spot). The voxels a spot
// may reach are given as segments: runs of consecutive voxels along i within
// one row of the grid, spot-major, in the order the columns are stored. One
// thread per segment evaluates pair_dose (ion_pair.wgsl, compiled before
// this file) at every kept voxel of its run, in two passes:
//   count (fill = 0): out[segment] = its number of non-zero entries;
//   fill (fill = 1):  its entries (voxel index, bitcast dose) as word pairs
//                     from its `offset`, the host's prefix sum of the counts.
// No thread writes another's output, so the matrix is the same on every run.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/ion_influence.rs

struct InfluenceParams {
    pb: Params,
    n_segments: u32,
    fill: u32,
    _pad0: u32,
    _pad1: u32,
}

struct Segment {
    spot: u32,
    // First voxel (linear index, i fastest) and the run's length.
    voxel: u32,
    len: u32,
    // First entry of this segment in `out` (fill pass; relative to the dispatch).
    offset: u32,
}

@group(0) @binding(0) var<uniform> params: InfluenceParams;
@group(0) @binding(4) var<storage, read> segments: array<Segment>;
// One bit per voxel of the grid: 1 where the matrix keeps the voxel's row.
@group(0) @binding(5) var<storage, read> keep: array<u32>;
@group(0) @binding(6) var<storage, read_write> out: array<u32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let s = gid.x + gid.y * groups.x * WORKGROUP;
    if (s >= params.n_segments) {
        return;
    }
    let seg = segments[s];
    let spot = spots[seg.spot];
    let first = voxel_ijk(params.pb, seg.voxel);
    let row = spot_row(spot, first.y, first.z);
    var n = 0u;
    for (var e = 0u; e < seg.len; e = e + 1u) {
        let v = seg.voxel + e;
        if (((keep[v >> 5u] >> (v & 31u)) & 1u) == 0u) {
            continue;
        }
        let d = pair_dose(params.pb, spot, spot_at(spot, row, first.x + e));
        if (d > 0.0) {
            if (params.fill == 1u) {
                let at = 2u * (seg.offset + n);
                out[at] = v;
                out[at + 1u] = bitcast<u32>(d * params.pb.gy_per_unit);
            }
            n = n + 1u;
        }
    }
    if (params.fill == 0u) {
        out[s] = n;
    }
}
