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

/// Voxels per tile of `Lattice::fill_tiles`: consecutive along i, so that
/// one spot's or element's tables serve the whole tile from cache.
pub(crate) const TILE: usize = 64;

impl Lattice {
    /// Calls `fill(ijk, out)` for tiles of up to `TILE` consecutive voxels
    /// of the dispatch (i fastest), in parallel: `ijk` holds the tile's
    /// voxels' (i, j, k), `out` their places in `out`. The twins loop over
    /// spots or elements outside the tile's voxels, so each one's data is
    /// read once per tile, and add each voxel's terms in the shader's order.
    pub fn fill_tiles(&self, out: &mut [f32], fill: impl Fn(&[[u32; 3]], &mut [f32]) + Sync) {
        out[..self.count as usize]
            .par_chunks_mut(TILE)
            .enumerate()
            .for_each(|(tile, out)| {
                let first = self.offset + (tile * TILE) as u32;
                let mut ijk = [[0u32; 3]; TILE];
                for (n, c) in ijk[..out.len()].iter_mut().enumerate() {
                    let v = first + n as u32;
                    *c = [
                        v % self.nx,
                        (v / self.nx) % self.ny,
                        v / (self.nx * self.ny),
                    ];
                }
                fill(&ijk[..out.len()], out);
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dispatch from voxel 7 of a 5 × 3 grid over 150 voxels (two full
    /// tiles and a part): every voxel gets its own (i, j, k), once.
    #[test]
    fn tiles_cover_the_dispatch_voxel_by_voxel() {
        let lattice = Lattice {
            nx: 5,
            ny: 3,
            offset: 7,
            count: 150,
        };
        let mut out = vec![-1.0f32; 160];
        lattice.fill_tiles(&mut out, |ijk, out| {
            for ([i, j, k], o) in ijk.iter().zip(out) {
                *o = (i + 5 * (j + 3 * k)) as f32;
            }
        });
        for (n, o) in out.iter().enumerate() {
            let expected = if n < 150 { (7 + n) as f32 } else { -1.0 };
            assert_eq!(*o, expected, "place {n}");
        }
    }
}
