//! CPU twin of `shaders/photon_influence.wgsl`: same parameters, same
//! buffers, same f32 arithmetic.

use super::photon_pair::{photon_pair_dose, voxel_centre};
use crate::kernels::{PhotonInfluenceParams, PhotonPbElement, PhotonRun};
use rayon::prelude::*;

/// The dose (Gy per unit weight) of each run's element at each of its voxels
/// (packed i | j << 11 | k << 22),
/// into `out` at the voxels' places in the list, for the first `n_runs` runs
/// (which cover consecutive stretches of the list, in order).
pub fn photon_influence(
    params: &PhotonInfluenceParams,
    elements: &[PhotonPbElement],
    tables: (&[f32], &[f32], &[f32]),
    runs: &[PhotonRun],
    voxels: &[u32],
    out: &mut [f32],
) {
    let (p, (idd, weights, profiles)) = (&params.pb, tables);
    let runs = &runs[..params.n_runs as usize];
    // Each run's stretch of `out`, split off in order.
    let mut slices = Vec::with_capacity(runs.len());
    let mut rest = &mut out[runs.first().map_or(0, |r| r.first as usize)..];
    for (n, r) in runs.iter().enumerate() {
        let next = runs.get(n + 1).map_or(r.first + r.count, |s| s.first);
        let (mine, tail) = rest.split_at_mut((next - r.first) as usize);
        slices.push(mine);
        rest = tail;
    }
    runs.par_iter().zip(slices).for_each(|(r, out)| {
        let e = &elements[r.element as usize];
        let list = &voxels[r.first as usize..][..r.count as usize];
        for (o, v) in out.iter_mut().zip(list) {
            let ijk = [v & 0x7ff, (v >> 11) & 0x7ff, v >> 22];
            let d = photon_pair_dose(p, e, idd, weights, profiles, voxel_centre(p, ijk));
            *o = d * p.gy_per_unit;
        }
    });
}
