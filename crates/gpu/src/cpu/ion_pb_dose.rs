//! CPU twin of `shaders/ion_pb_dose.wgsl`: same parameters, same buffers, same
//! f32 arithmetic. The specification the GPU kernel is tested against.

use super::ion_pair::{pair_dose, spot_at, spot_row};
use super::{Lattice, TILE};
use crate::kernels::{IonKernelSpot, IonPbParams};

/// Dose (Gy) of voxels `voxel_offset .. voxel_offset + n_voxels` into `dose`.
pub fn ion_pb_dose(
    params: &IonPbParams,
    spots: &[IonKernelSpot],
    depth_table: &[[f32; 4]],
    profiles: &[[f32; 2]],
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
        let mut total = [0.0f32; TILE];
        for s in &spots[..p.n_spots as usize] {
            for (t, [i, j, k]) in total.iter_mut().zip(ijk) {
                *t += pair_dose(
                    p,
                    s,
                    depth_table,
                    profiles,
                    spot_at(s, &spot_row(s, *j, *k), *i),
                );
            }
        }
        for (o, t) in out.iter_mut().zip(total) {
            *o = t * p.gy_per_unit;
        }
    });
}
