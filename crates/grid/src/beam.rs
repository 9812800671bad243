//! Beam coordinate frames after IEC 61217.
//!
//! IEC fixed system `F`: origin at the isocentre, `X_f` to the right seen from
//! the foot of the couch facing the gantry, `Y_f` towards the gantry, `Z_f` up.
//! The gantry rotates about `Y_f` (gantry 0° = source above, 90° = source at
//! `+X_f`), the collimator about the beam axis, the patient support about `Z_f`
//! (positive counter-clockwise seen from above). The beam-limiting-device
//! frame `B` has `Z_b` pointing from the isocentre to the source; beam's-eye-view
//! positions (spots, leaves) are given along `X_b`, `Y_b` in the isocentre plane.

use crate::{index_ray, Grid, IndexRay};
use nalgebra::{Matrix3, Point3, Rotation3, Vector3};
use serde::{Deserialize, Serialize};

/// DICOM Patient Position (0018,5100): how the patient lies on the couch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PatientPosition {
    /// Head first, supine.
    #[default]
    Hfs,
    /// Head first, prone.
    Hfp,
    /// Feet first, supine.
    Ffs,
    /// Feet first, prone.
    Ffp,
}

impl PatientPosition {
    /// Parses the DICOM code string (`HFS`, `HFP`, `FFS`, `FFP`).
    pub fn from_dicom(code: &str) -> Option<Self> {
        match code.trim() {
            "HFS" => Some(Self::Hfs),
            "HFP" => Some(Self::Hfp),
            "FFS" => Some(Self::Ffs),
            "FFP" => Some(Self::Ffp),
            _ => None,
        }
    }

    /// The DICOM code string.
    pub fn dicom_code(self) -> &'static str {
        match self {
            Self::Hfs => "HFS",
            Self::Hfp => "HFP",
            Self::Ffs => "FFS",
            Self::Ffp => "FFP",
        }
    }

    /// Columns: the IEC table-top axes `X_t, Y_t, Z_t` in DICOM patient coordinates.
    fn table_to_patient(self) -> Matrix3<f64> {
        let (x, y, z) = (Vector3::x(), Vector3::y(), Vector3::z());
        let cols = match self {
            // Supine head towards the gantry: left = +X, superior = +Y, anterior (−y) = up.
            Self::Hfs => [x, z, -y],
            Self::Hfp => [-x, z, y],
            Self::Ffs => [-x, -z, -y],
            Self::Ffp => [x, -z, y],
        };
        Matrix3::from_columns(&cols)
    }
}

/// Machine angles (degrees) and isocentre (patient mm) of one beam.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BeamGeometry {
    pub gantry_deg: f64,
    pub couch_deg: f64,
    pub collimator_deg: f64,
    pub isocentre_mm: Point3<f64>,
    pub patient_position: PatientPosition,
}

/// The beam-limiting-device axes of one beam, in patient coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BeamFrame {
    /// Isocentre (mm, patient coordinates).
    pub isocentre_mm: Point3<f64>,
    /// `X_b`: beam's-eye-view x axis (unit).
    pub bev_x: Vector3<f64>,
    /// `Y_b`: beam's-eye-view y axis (unit).
    pub bev_y: Vector3<f64>,
    /// `Z_b`: unit vector from the isocentre towards the source.
    pub to_source: Vector3<f64>,
}

impl BeamGeometry {
    /// A coplanar beam: couch and collimator at 0°.
    pub fn coplanar(
        gantry_deg: f64,
        isocentre_mm: Point3<f64>,
        patient_position: PatientPosition,
    ) -> Self {
        Self {
            gantry_deg,
            couch_deg: 0.0,
            collimator_deg: 0.0,
            isocentre_mm,
            patient_position,
        }
    }

    /// The beam frame in patient coordinates.
    pub fn frame(&self) -> BeamFrame {
        let rad = f64::to_radians;
        let gantry = Rotation3::from_axis_angle(&Vector3::y_axis(), rad(self.gantry_deg));
        let coll = Rotation3::from_axis_angle(&Vector3::z_axis(), rad(self.collimator_deg));
        // Fixed → table top undoes the couch rotation.
        let couch_inv = Rotation3::from_axis_angle(&Vector3::z_axis(), -rad(self.couch_deg));
        let m = self.patient_position.table_to_patient()
            * couch_inv.matrix()
            * gantry.matrix()
            * coll.matrix();
        BeamFrame {
            isocentre_mm: self.isocentre_mm,
            bev_x: m.column(0).into(),
            bev_y: m.column(1).into(),
            to_source: m.column(2).into(),
        }
    }
}

impl BeamFrame {
    /// Unit direction of beam travel (source → isocentre).
    pub fn direction(&self) -> Vector3<f64> {
        -self.to_source
    }

    /// Source position for a source-to-axis distance (mm).
    pub fn source_mm(&self, sad_mm: f64) -> Point3<f64> {
        self.isocentre_mm + self.to_source * sad_mm
    }

    /// Patient point of a beam's-eye-view position `(x, y)` (mm) in the isocentre plane.
    pub fn bev_to_patient(&self, x_mm: f64, y_mm: f64) -> Point3<f64> {
        self.isocentre_mm + self.bev_x * x_mm + self.bev_y * y_mm
    }

    /// Unit direction of the ray aimed at beam's-eye-view `(x, y)` (mm) in the
    /// isocentre plane: from the virtual source at `sad_mm` (source-to-axis
    /// distance), or parallel to the beam axis when `sad_mm` is `None`.
    pub fn ray_direction(&self, x_mm: f64, y_mm: f64, sad_mm: Option<f64>) -> Vector3<f64> {
        match sad_mm {
            Some(sad) => (self.bev_to_patient(x_mm, y_mm) - self.source_mm(sad)).normalize(),
            None => self.direction(),
        }
    }

    /// The ray aimed at beam's-eye-view `(x, y)` (`ray_direction`) from
    /// `reach_mm` before the isocentre plane to `reach_mm` beyond it, clipped
    /// to `grid` with samples every `step_mm` (`index_ray`); `None` when it
    /// misses the grid.
    pub fn aimed_ray(
        &self,
        grid: &Grid,
        (x_mm, y_mm): (f64, f64),
        sad_mm: Option<f64>,
        reach_mm: f64,
        step_mm: f64,
    ) -> Option<(Vector3<f64>, IndexRay)> {
        let dir = self.ray_direction(x_mm, y_mm, sad_mm);
        let start = self.bev_to_patient(x_mm, y_mm) - dir * reach_mm;
        index_ray(grid, &start, &dir, 2.0 * reach_mm, step_mm).map(|r| (dir, r))
    }

    /// Beam's-eye-view position (mm) in the isocentre plane of the ray through
    /// patient point `p`: its projection from the virtual source at `sad_mm`,
    /// or along the axis when `sad_mm` is `None`.
    pub fn project_to_isocentre_plane(&self, p: &Point3<f64>, sad_mm: Option<f64>) -> [f64; 2] {
        let b = self.patient_to_beam(p);
        let scale = sad_mm.map_or(1.0, |sad| sad / (sad - b.z));
        [b.x * scale, b.y * scale]
    }

    /// Beam-frame coordinates `(x_b, y_b, z_b)` (mm) of a patient point.
    pub fn patient_to_beam(&self, p: &Point3<f64>) -> Vector3<f64> {
        let r = p - self.isocentre_mm;
        Vector3::new(
            r.dot(&self.bev_x),
            r.dot(&self.bev_y),
            r.dot(&self.to_source),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn beam(g: f64, c: f64, coll: f64, pos: PatientPosition) -> BeamFrame {
        BeamGeometry {
            gantry_deg: g,
            couch_deg: c,
            collimator_deg: coll,
            isocentre_mm: Point3::new(10.0, 20.0, 30.0),
            patient_position: pos,
        }
        .frame()
    }

    fn close(a: Vector3<f64>, b: Vector3<f64>) -> bool {
        (a - b).norm() < 1e-12
    }

    #[test]
    fn hfs_cardinal_beams() {
        use PatientPosition::Hfs;
        // Gantry 0: source anterior, beam travels posterior (+y).
        assert!(close(beam(0.0, 0.0, 0.0, Hfs).direction(), Vector3::y()));
        // Gantry 90: source at the patient's left (+x), beam travels to the right (−x).
        assert!(close(beam(90.0, 0.0, 0.0, Hfs).direction(), -Vector3::x()));
        // Gantry 180: PA beam.
        assert!(close(beam(180.0, 0.0, 0.0, Hfs).direction(), -Vector3::y()));
        // Gantry 270: from the right.
        assert!(close(beam(270.0, 0.0, 0.0, Hfs).direction(), Vector3::x()));
        // Couch 90 turns the foot of the couch (−Y_f) counter-clockwise onto
        // +X_f, so the gantry-90 source now lies inferior to the patient.
        assert!(close(beam(90.0, 90.0, 0.0, Hfs).to_source, -Vector3::z()));
        // Collimator 90 at gantry 0: BEV x turns into the fixed Y (superior).
        assert!(close(beam(0.0, 0.0, 90.0, Hfs).bev_x, Vector3::z()));
    }

    #[test]
    fn prone_and_feet_first() {
        use PatientPosition::*;
        // Gantry 0 enters the back of a prone patient: travels anterior (−y).
        assert!(close(beam(0.0, 0.0, 0.0, Hfp).direction(), -Vector3::y()));
        // Feet first supine, gantry 90: source at +X_f, the patient's right (−x).
        assert!(close(beam(90.0, 0.0, 0.0, Ffs).to_source, -Vector3::x()));
        assert!(close(beam(90.0, 0.0, 0.0, Ffp).to_source, Vector3::x()));
    }

    #[test]
    fn frames_are_right_handed_and_round_trip() {
        for pos in [
            PatientPosition::Hfs,
            PatientPosition::Hfp,
            PatientPosition::Ffs,
            PatientPosition::Ffp,
        ] {
            for (g, c, k) in [(0.0, 0.0, 0.0), (33.0, 270.0, 15.0), (181.0, 45.0, 90.0)] {
                let f = beam(g, c, k, pos);
                assert!(close(f.bev_x.cross(&f.bev_y), f.to_source));
                let p = Point3::new(-3.0, 7.0, 11.0);
                let b = f.patient_to_beam(&p);
                let back = f.bev_to_patient(b.x, b.y) + f.to_source * b.z;
                assert!((back - p).norm() < 1e-9);
            }
        }
        assert!(
            (beam(0.0, 0.0, 0.0, PatientPosition::Hfs).source_mm(1000.0)
                - Point3::new(10.0, -980.0, 30.0))
            .norm()
                < 1e-9
        );
    }

    /// A diverging ray aimed at (40, 0) in the isocentre plane passes through
    /// 40·(SAD + d)/SAD at depth d beyond it, and projecting that point back
    /// gives (40, 0); without a source the ray is the axis direction.
    #[test]
    fn diverging_rays_and_projection() {
        let frame = BeamGeometry::coplanar(0.0, Point3::origin(), PatientPosition::Hfs).frame();
        let sad = Some(1000.0);
        let d = frame.ray_direction(40.0, 0.0, sad);
        let through = frame.bev_to_patient(40.0, 0.0);
        let t = 100.0 / d.dot(&frame.direction());
        let deep = through + d * t;
        let b = frame.patient_to_beam(&deep);
        assert!((b.x - 44.0).abs() < 1e-9 && b.y.abs() < 1e-9, "{b:?}");
        let [x, y] = frame.project_to_isocentre_plane(&deep, sad);
        assert!((x - 40.0).abs() < 1e-9 && y.abs() < 1e-9);
        assert_eq!(frame.ray_direction(40.0, 0.0, None), frame.direction());
    }
}
