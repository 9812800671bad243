//! CPU twin of `shaders/photon_pb_dose.wgsl`: same parameters, same buffers,
//! same f32 arithmetic. The specification the GPU kernel is tested against.

use super::photon_pair::{photon_pair_dose, voxel_centre};
use super::Lattice;
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
    lattice.fill(dose, |ijk| {
        let pos = voxel_centre(p, ijk);
        let total: f32 = elements[..p.n_elements as usize]
            .iter()
            .map(|e| photon_pair_dose(p, e, idd, weights, profiles, pos))
            .sum();
        total * p.gy_per_unit
    });
}
