//! Spot placement: energy layers that cover the target plus distal and proximal
//! margins along each ray, on a lateral grid in the beam's-eye view, keeping
//! only spots whose Bragg peak falls in the target plus margin.

use crate::engine::Spot;
use ferrodose_gpu::{Backend, WedProfiles, WedRay};
use ferrodose_grid::{BeamGeometry, Mask, Volume};
use ferrodose_physics::RangeTable;

/// Settings of the spot placement (lengths in mm, WED for the depth ones).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlacementSettings {
    /// Lateral spot spacing in the isocentre plane.
    pub lateral_spacing_mm: f64,
    /// Spacing of the energy layers in water-equivalent depth.
    pub layer_spacing_mm: f64,
    /// Lateral margin around the target for spot positions.
    pub lateral_margin_mm: f64,
    /// Extra WED beyond the distal edge: fixed part …
    pub distal_margin_mm: f64,
    /// … plus this percentage of the distal-edge WED (range uncertainty).
    pub distal_margin_percent: f64,
    /// Extra WED before the proximal edge.
    pub proximal_margin_mm: f64,
    /// Virtual source-to-axis distance of the beam (mm), `None` for parallel rays.
    pub virtual_source_mm: Option<f64>,
}

impl PlacementSettings {
    /// Defaults tied to the spot size: lateral spacing 1.2·σ_air (overlapping
    /// Gaussians), 3 mm layers, 3 mm lateral, 3 mm + 3.5 % distal and 3 mm
    /// proximal margins.
    pub fn for_spot_sigma(sigma_air_mm: f64) -> Self {
        Self {
            lateral_spacing_mm: 1.2 * sigma_air_mm,
            layer_spacing_mm: 3.0,
            lateral_margin_mm: 3.0,
            distal_margin_mm: 3.0,
            distal_margin_percent: 3.5,
            proximal_margin_mm: 3.0,
            virtual_source_mm: None,
        }
    }
}

/// The placed spots of one beam (weights 1) and their energies (MeV/u).
#[derive(Debug, Clone)]
pub struct Placement {
    pub spots: Vec<Spot>,
    /// Distinct layer energies, ascending.
    pub energies_mev_u: Vec<f64>,
    /// Layers whose energy fell outside the machine's range and were dropped.
    pub dropped_layers: usize,
}

/// Places spots for one beam on `target` through the RSP volume; `table` maps
/// WED to energy (CSDA range at the layer depth, rounded to 0.01 MeV/u) and
/// `deliverable` maps that energy to the one the machine delivers (MeV/u), or
/// `None` outside its range. Layers that come out at the energy of the layer
/// before are skipped.
pub fn place_spots(
    target: &Mask,
    rsp: &Volume<f32>,
    geometry: &BeamGeometry,
    table: &RangeTable,
    deliverable: &dyn Fn(f64) -> Option<f64>,
    s: &PlacementSettings,
) -> Placement {
    let frame = geometry.frame();
    let grown = target.dilated(s.lateral_margin_mm);
    let g = grown.grid();
    // Extent of the grown target in the beam's-eye view.
    let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
    for (n, _) in grown.data().iter().enumerate().filter(|(_, b)| **b) {
        let [i, j, k] = g.ijk(n);
        let [x, y] =
            frame.project_to_isocentre_plane(&g.voxel_centre(i, j, k), s.virtual_source_mm);
        lo = [lo[0].min(x), lo[1].min(y)];
        hi = [hi[0].max(x), hi[1].max(y)];
    }
    let step = s.lateral_spacing_mm;
    let axis = |l: f64, h: f64| {
        ((l / step).floor() as i64..=(h / step).ceil() as i64).map(move |n| n as f64 * step)
    };
    let profile_step = 0.5;
    // Per position: its ray through the CT and, ray-cast by the
    // `wed_profile` kernel's CPU twin, the WED interval of the grown target
    // along it.
    let mut aimed = Vec::new();
    for x in axis(lo[0], hi[0]) {
        for y in axis(lo[1], hi[1]) {
            if let Some((dir, ray)) = frame.aimed_ray(
                rsp.grid(),
                (x, y),
                s.virtual_source_mm,
                2000.0,
                profile_step,
            ) {
                aimed.push((x, y, dir, ray));
            }
        }
    }
    let wed = WedProfiles::new(
        rsp.grid().shape(),
        aimed
            .iter()
            .map(|(_, _, _, r)| {
                WedRay::new(r.entry_index, r.index_per_mm, profile_step, r.n_samples)
            })
            .collect(),
    )
    .trace_each(&Backend::Cpu { reason: None }, rsp.data())
    .expect("the CPU path does not fail");
    let mut rays = Vec::new();
    for ((x, y, dir, ray), wed) in aimed.iter().zip(&wed) {
        let inside: Vec<f64> = wed
            .iter()
            .enumerate()
            .filter(|(k, _)| {
                let q = ray.entry_mm + dir * (*k as f64 * profile_step);
                grown
                    .grid()
                    .voxel_of(&q)
                    .is_some_and(|[i, j, k]| *grown.get(i, j, k))
            })
            .map(|(_, w)| f64::from(*w))
            .collect();
        if let (Some(w0), Some(w1)) = (
            inside.iter().copied().reduce(f64::min),
            inside.iter().copied().reduce(f64::max),
        ) {
            rays.push((
                *x,
                *y,
                w0 - s.proximal_margin_mm,
                w1 * (1.0 + s.distal_margin_percent / 100.0) + s.distal_margin_mm,
            ));
        }
    }
    // Common layers for the beam, from the deepest distal edge upwards.
    let deepest = rays.iter().map(|r| r.3).fold(0.0, f64::max);
    let shallowest = rays.iter().map(|r| r.2).fold(f64::MAX, f64::min);
    let mut layers = Vec::new();
    let mut w = deepest;
    while w >= shallowest && w > 0.0 {
        layers.push(w);
        w -= s.layer_spacing_mm;
    }
    let mut dropped = 0;
    let mut energies = Vec::new();
    let mut spots = Vec::new();
    for &w in &layers {
        let wanted = table
            .energy_for_range(w / 10.0)
            .map(|e| (e * 100.0).round() / 100.0);
        let Some(energy) = wanted.ok().and_then(deliverable) else {
            dropped += 1;
            continue;
        };
        if energies.last() == Some(&energy) {
            continue;
        }
        energies.push(energy);
        for &(x, y, w0, w1) in &rays {
            if w >= w0 && w <= w1 {
                spots.push(Spot {
                    energy_mev_u: energy,
                    x_mm: x,
                    y_mm: y,
                    weight: 1.0,
                });
            }
        }
    }
    energies.sort_by(f64::total_cmp);
    Placement {
        spots,
        energies_mev_u: energies,
        dropped_layers: dropped,
    }
}
