//! VMAT arcs as control points with apertures conformal to the target.

use crate::aperture::Aperture;
use crate::engine::ControlPoint;
use crate::machine::PhotonMachine;
use ferrodose_grid::{BeamGeometry, Mask, Point3};

/// One arc: gantry from `start_deg` to `stop_deg`, clockwise when `stop` >
/// `start` (angles may exceed 360 and wrap), a control point every
/// `spacing_deg`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ArcSettings {
    pub start_deg: f64,
    pub stop_deg: f64,
    pub spacing_deg: f64,
    /// Aperture margin around the target's projection (mm, isocentre plane).
    pub margin_mm: f64,
}

/// The sectors of an arc: the geometry at each sector's centre angle (the
/// given geometry with its gantry angle replaced) and the signed sector
/// width (degrees; positive clockwise).
pub fn arc_sectors(
    geometry: &BeamGeometry,
    arc: &ArcSettings,
) -> Result<(Vec<BeamGeometry>, f64), String> {
    let span = arc.stop_deg - arc.start_deg;
    if !(arc.spacing_deg >= 0.5 && arc.spacing_deg <= 30.0) || span == 0.0 || !span.is_finite() {
        return Err(format!(
            "arc {}° → {}°: needs a non-zero span and a control-point spacing of 0.5–30°",
            arc.start_deg, arc.stop_deg
        ));
    }
    let n = (span.abs() / arc.spacing_deg).round().max(1.0) as usize;
    let step = span / n as f64;
    let sectors = (0..n)
        .map(|c| BeamGeometry {
            gantry_deg: (arc.start_deg + (c as f64 + 0.5) * step).rem_euclid(360.0),
            ..*geometry
        })
        .collect();
    Ok((sectors, step))
}

/// Control points of an arc with conformal apertures and 1 MU each: one at
/// the centre of every `spacing_deg` sector (the dose of the sector is given
/// to its centre angle).
pub fn arc_control_points(
    machine: &PhotonMachine,
    geometry: &BeamGeometry,
    arc: &ArcSettings,
    target: &Mask,
) -> Result<Vec<ControlPoint>, String> {
    let points = TargetPoints::new(target)?;
    arc_sectors(geometry, arc)?
        .0
        .iter()
        .map(|g| conformal_control_point(machine, g, &points, arc.margin_mm))
        .collect()
}

/// The voxel centres of a target and half its voxel diagonal.
pub struct TargetPoints {
    points: Vec<Point3<f64>>,
    half_voxel_mm: f64,
}

impl TargetPoints {
    /// Refuses an empty target.
    pub fn new(target: &Mask) -> Result<Self, String> {
        let grid = target.grid();
        let points: Vec<_> = target
            .voxel_indices()
            .iter()
            .map(|v| {
                let [i, j, k] = grid.ijk(*v as usize);
                grid.voxel_centre(i, j, k)
            })
            .collect();
        if points.is_empty() {
            return Err("the target is empty".into());
        }
        let half_voxel_mm = 0.5 * grid.spacing_mm().iter().map(|s| s * s).sum::<f64>().sqrt();
        Ok(Self {
            points,
            half_voxel_mm,
        })
    }

    /// The points projected to the isocentre plane of `geometry` (mm) from a
    /// source at `sad_mm`.
    pub fn project(&self, geometry: &BeamGeometry, sad_mm: f64) -> Vec<[f64; 2]> {
        let frame = geometry.frame();
        self.points
            .iter()
            .map(|p| frame.project_to_isocentre_plane(p, Some(sad_mm)))
            .collect()
    }

    /// Half the target voxels' diagonal (mm).
    pub fn half_voxel_mm(&self) -> f64 {
        self.half_voxel_mm
    }
}

/// A control point of 1 MU at `geometry` whose aperture conforms to the
/// target's projection plus `margin_mm` (and half a voxel diagonal, so that
/// the voxels' corners stay inside).
pub fn conformal_control_point(
    machine: &PhotonMachine,
    geometry: &BeamGeometry,
    target: &TargetPoints,
    margin_mm: f64,
) -> Result<ControlPoint, String> {
    let bev = target.project(geometry, machine.sad_mm);
    let aperture = Aperture::conformal(machine, &bev, margin_mm + target.half_voxel_mm)
        .ok_or_else(|| {
            format!(
                "gantry {:.1}°: the target is outside the field",
                geometry.gantry_deg
            )
        })?;
    Ok(ControlPoint {
        geometry: *geometry,
        aperture,
        mu: 1.0,
    })
}
