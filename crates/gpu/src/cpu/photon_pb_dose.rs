//! CPU twin of `shaders/photon_pb_dose.wgsl`: same parameters, same buffers,
//! same f32 arithmetic. The specification the GPU kernel is tested against.

use super::photon_pair::{photon_pair_dose, voxel_centre};
use super::{Lattice, TILE};
use crate::kernels::{PhotonPbElement, PhotonPbParams};

/// Dose (Gy) of voxels `voxel_offset .. voxel_offset + n_voxels` into `dose`.
pub fn photon_pb_dose(
    params: &PhotonPbParams,
    elements: &[PhotonPbElement],
    idd: &[f32],
    weights: &[f32],
    profiles: &[f32],
    dose: &mut [f32],
) {
    let p = params;
    let lattice = Lattice {
        nx: p.nx,
        ny: p.ny,
        offset: p.voxel_offset,
        count: p.n_voxels,
    };
    lattice.fill_tiles(dose, |ijk, out| {
        let mut pos = [[0.0f32; 3]; TILE];
        for (q, c) in pos.iter_mut().zip(ijk) {
            *q = voxel_centre(p, *c);
        }
        let mut total = [0.0f32; TILE];
        for e in &elements[..p.n_elements as usize] {
            for (t, pos) in total.iter_mut().zip(&pos[..ijk.len()]) {
                *t += photon_pair_dose(p, e, idd, weights, profiles, *pos);
            }
        }
        for (o, t) in out.iter_mut().zip(total) {
            *o = t * p.gy_per_unit;
        }
    });
}
