// Sparse matrix–vector product y = M·x with M in compressed rows (f32 values,
// u32 indices): one thread per row gathers its entries in storage order. The
// optimiser uses it both ways: A·w (rows are voxels, x the spot or control-point
// weights) and Aᵀ·g (rows are spots, x the objective's gradient per voxel), so
// no thread writes another's output and no atomics are needed.
// CPU twin (specification and test oracle): crates/gpu/src/cpu/sparse_mat_vec.rs

struct Params {
    // Rows in this dispatch (one tile of the matrix).
    n_rows: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
// Start of each row's entries, relative to this tile's first entry; n_rows + 1 values.
@group(0) @binding(1) var<storage, read> row_start: array<u32>;
@group(0) @binding(2) var<storage, read> col: array<u32>;
@group(0) @binding(3) var<storage, read> val: array<f32>;
@group(0) @binding(4) var<storage, read> x: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

const WORKGROUP: u32 = 256u;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let r = gid.x + gid.y * groups.x * WORKGROUP;
    if (r >= params.n_rows) {
        return;
    }
    var sum = 0.0;
    for (var k = row_start[r]; k < row_start[r + 1u]; k = k + 1u) {
        sum = sum + val[k] * x[col[k]];
    }
    y[r] = sum;
}
