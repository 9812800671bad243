//! CPU twins of the WGSL kernels in `shaders/`, one file per kernel with the
//! kernel's name; each takes the same `Pod` parameters and buffers as its shader.

mod ion_influence;
mod ion_pair;
mod ion_pb_dose;
mod photon_influence;
mod photon_pair;
mod photon_pb_dose;
mod piecewise_linear;
mod sparse_mat_vec;
mod wed_profile;

pub use ion_influence::{ion_influence, segment_entries};
pub use ion_pb_dose::ion_pb_dose;
pub use photon_influence::photon_influence;
pub use photon_pair::{erf, photon_pair_dose};
pub use photon_pb_dose::photon_pb_dose;
pub use piecewise_linear::piecewise_linear;
pub use sparse_mat_vec::sparse_mat_vec;
pub use wed_profile::wed_profile;

use rayon::prelude::*;

/// Centre (mm) of the voxel at index (i, j, k): origin + i·step_i + j·step_j
/// + k·step_k, in the kernels' order of operations (w unused).
#[inline(always)]
pub(crate) fn grid_point(
    origin: &[f32; 4],
    steps: [&[f32; 4]; 3],
    [i, j, k]: [f32; 3],
) -> [f32; 3] {
    let [si, sj, sk] = steps;
    std::array::from_fn(|a| origin[a] + i * si[a] + j * sj[a] + k * sk[a])
}

/// The voxels of one dispatch: the grid's x and y sizes, the first voxel
/// and the count.
pub(crate) struct Lattice {
    pub nx: u32,
    pub ny: u32,
    pub offset: u32,
    pub count: u32,
}

impl Lattice {
    /// Writes `f([i, j, k])` for every voxel of the dispatch into `out`, i
    /// fastest, in parallel.
    pub fn fill(&self, out: &mut [f32], f: impl Fn([u32; 3]) -> f32 + Sync) {
        out[..self.count as usize]
            .par_iter_mut()
            .enumerate()
            .for_each(|(local, out)| {
                let v = self.offset + local as u32;
                *out = f([
                    v % self.nx,
                    (v / self.nx) % self.ny,
                    v / (self.nx * self.ny),
                ]);
            });
    }
}
