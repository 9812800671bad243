//! CPU twin of `shaders/ion_influence.wgsl`: same parameters, same buffers,
//! same f32 arithmetic; `segment_entries` is the body of the kernel's thread.

use super::ion_pair::{pair_dose, spot_at, spot_row, voxel_ijk};
use crate::kernels::{IonInfluenceParams, IonKernelSpot, IonPbParams, IonSegment};
use rayon::prelude::*;

/// Calls `visit(voxel, Gy per particle)` for each kept voxel of `seg` where
/// its spot's dose is non-zero, in voxel order; `keep` holds one bit per voxel.
#[inline]
pub fn segment_entries(
    p: &IonPbParams,
    spots: &[IonKernelSpot],
    depth_table: &[[f32; 4]],
    profiles: &[[f32; 2]],
    keep: &[u32],
    seg: &IonSegment,
    mut visit: impl FnMut(u32, f32),
) {
    let spot = &spots[seg.spot as usize];
    let [i0, j, k] = voxel_ijk(p, seg.voxel);
    let row = spot_row(spot, j, k);
    for e in 0..seg.len {
        let v = seg.voxel + e;
        if keep[(v >> 5) as usize] >> (v & 31) & 1 == 0 {
            continue;
        }
        let at = spot_at(spot, &row, i0 + e);
        let d = pair_dose(p, spot, depth_table, profiles, at);
        if d > 0.0 {
            visit(v, d * p.gy_per_unit);
        }
    }
}

/// The count pass (`fill` = 0: `out[s]` = entries of segment s) or the fill
/// pass (`fill` = 1: each segment's (voxel, dose bits) word pairs from its
/// `offset`) over the first `n_segments` segments.
pub fn ion_influence(
    params: &IonInfluenceParams,
    spots: &[IonKernelSpot],
    depth_table: &[[f32; 4]],
    profiles: &[[f32; 2]],
    segments: &[IonSegment],
    keep: &[u32],
    out: &mut [u32],
) {
    let (p, segments) = (&params.pb, &segments[..params.n_segments as usize]);
    if params.fill == 0 {
        out[..segments.len()]
            .par_iter_mut()
            .zip(segments)
            .for_each(|(n, seg)| {
                *n = 0;
                segment_entries(p, spots, depth_table, profiles, keep, seg, |_, _| *n += 1);
            });
    } else {
        for seg in segments {
            let mut at = 2 * seg.offset as usize;
            segment_entries(p, spots, depth_table, profiles, keep, seg, |v, d| {
                out[at] = v;
                out[at + 1] = d.to_bits();
                at += 2;
            });
        }
    }
}
