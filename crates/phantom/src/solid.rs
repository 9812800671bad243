//! Analytic solids of the phantom definitions (all lengths in mm, patient coordinates).

use ferrodose_grid::{Point3, Vector3};
use serde::Deserialize;

/// A solid; in TOML the key names the kind, for example
/// `ellipsoid = { centre = [0, 0, 0], radii = [30, 30, 30] }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solid {
    /// Axis-aligned box between two corners.
    Cuboid { min: [f64; 3], max: [f64; 3] },
    /// Axis-aligned ellipsoid.
    Ellipsoid { centre: [f64; 3], radii: [f64; 3] },
    /// Elliptic cylinder along z: ellipse `centre`, `radii` in the axial plane, from `z[0]` to `z[1]`.
    EllipticCylinder {
        centre: [f64; 2],
        radii: [f64; 2],
        z: [f64; 2],
    },
    /// Elliptic shell along z (a rib): between the ellipse of `radii` and the
    /// one `thickness` inside it, from `z[0]` to `z[1]`, leaving out polar
    /// angles (degrees, atan2(y, x) about `centre`) within any of `gaps_deg`.
    EllipticShell {
        centre: [f64; 2],
        radii: [f64; 2],
        thickness: f64,
        z: [f64; 2],
        #[serde(default)]
        gaps_deg: Vec<[f64; 2]>,
    },
    /// All points within `radius` of the segment `a`–`b` (a vessel, a bowel loop).
    Capsule {
        a: [f64; 3],
        b: [f64; 3],
        radius: f64,
    },
}

fn in_ellipse(dx: f64, dy: f64, rx: f64, ry: f64) -> bool {
    (dx / rx).powi(2) + (dy / ry).powi(2) <= 1.0
}

impl Solid {
    /// Whether the solid holds point `p`.
    pub fn contains(&self, p: &Point3<f64>) -> bool {
        match self {
            Solid::Cuboid { min, max } => (0..3).all(|a| p[a] >= min[a] && p[a] <= max[a]),
            Solid::Ellipsoid { centre, radii } => {
                (0..3)
                    .map(|a| ((p[a] - centre[a]) / radii[a]).powi(2))
                    .sum::<f64>()
                    <= 1.0
            }
            Solid::EllipticCylinder { centre, radii, z } => {
                p.z >= z[0]
                    && p.z <= z[1]
                    && in_ellipse(p.x - centre[0], p.y - centre[1], radii[0], radii[1])
            }
            Solid::EllipticShell {
                centre,
                radii,
                thickness,
                z,
                gaps_deg,
            } => {
                let (dx, dy) = (p.x - centre[0], p.y - centre[1]);
                let angle = dy.atan2(dx).to_degrees();
                p.z >= z[0]
                    && p.z <= z[1]
                    && in_ellipse(dx, dy, radii[0], radii[1])
                    && !in_ellipse(dx, dy, radii[0] - thickness, radii[1] - thickness)
                    && !gaps_deg.iter().any(|[lo, hi]| angle >= *lo && angle <= *hi)
            }
            Solid::Capsule { a, b, radius } => {
                let (a, b) = (Vector3::from(*a), Vector3::from(*b));
                let ab = b - a;
                let t = ((p.coords - a).dot(&ab) / ab.norm_squared()).clamp(0.0, 1.0);
                (p.coords - (a + ab * t)).norm() <= *radius
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solids_hold_what_they_should() {
        let p = |x, y, z| Point3::new(x, y, z);
        let e = Solid::Ellipsoid {
            centre: [0.0, 0.0, 0.0],
            radii: [10.0, 20.0, 30.0],
        };
        assert!(
            e.contains(&p(9.9, 0.0, 0.0))
                && !e.contains(&p(10.1, 0.0, 0.0))
                && e.contains(&p(0.0, 0.0, 29.0))
        );
        let c = Solid::Capsule {
            a: [0.0, 0.0, 0.0],
            b: [10.0, 0.0, 0.0],
            radius: 2.0,
        };
        assert!(
            c.contains(&p(5.0, 1.9, 0.0))
                && !c.contains(&p(12.1, 0.0, 0.0))
                && c.contains(&p(11.9, 0.0, 0.0))
        );
        let r = Solid::EllipticShell {
            centre: [0.0, 0.0],
            radii: [100.0, 50.0],
            thickness: 10.0,
            z: [-5.0, 5.0],
            gaps_deg: vec![[-120.0, -60.0]],
        };
        assert!(r.contains(&p(95.0, 0.0, 0.0)) && !r.contains(&p(85.0, 0.0, 0.0)));
        assert!(!r.contains(&p(0.0, -45.0, 0.0)), "anterior gap");
        assert!(r.contains(&p(0.0, 45.0, 0.0)) && !r.contains(&p(0.0, 45.0, 6.0)));
    }
}
