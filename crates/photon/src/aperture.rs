//! Beam apertures (jaws and MLC leaves) and the rectangular fluence elements
//! they let through.

use crate::machine::PhotonMachine;

/// The beam-limiting devices of one control point, in the isocentre plane (mm).
#[derive(Debug, Clone, PartialEq)]
pub struct Aperture {
    /// X jaws (beam's-eye-view x), [X1, X2] with X1 < X2.
    pub jaw_x_mm: [f64; 2],
    /// Y jaws, [Y1, Y2].
    pub jaw_y_mm: [f64; 2],
    /// Leaf-end positions [left, right] of every leaf pair (x, mm); a pair
    /// with right ≤ left is closed.
    pub leaves_mm: Vec<[f64; 2]>,
}

/// A rectangle of uniform fluence in the isocentre plane.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FluenceElement {
    /// Centre (mm).
    pub u_mm: f64,
    pub v_mm: f64,
    /// Half-widths (mm).
    pub half_u_mm: f64,
    pub half_v_mm: f64,
    /// Fluence relative to the open beam on the axis (transmission and horns).
    pub relative_fluence: f64,
}

impl Aperture {
    /// A jaw-defined field with every leaf pair open to the jaws.
    pub fn jaw_field(m: &PhotonMachine, x_mm: [f64; 2], y_mm: [f64; 2]) -> Self {
        Self {
            jaw_x_mm: x_mm,
            jaw_y_mm: y_mm,
            leaves_mm: vec![x_mm; m.n_leaf_pairs()],
        }
    }

    /// The aperture conformal to beam's-eye-view points (mm, isocentre plane)
    /// plus `margin_mm` on every side: each leaf pair opens to the points
    /// within its span (widened by the margin), the jaws close to the open
    /// leaves. `None` when no point lies within the machine's field.
    pub fn conformal(m: &PhotonMachine, points: &[[f64; 2]], margin_mm: f64) -> Option<Self> {
        let b = &m.leaf_boundaries_mm;
        let mut leaves = vec![[0.0, 0.0]; m.n_leaf_pairs()];
        let mut open = vec![false; m.n_leaf_pairs()];
        for (p, leaf) in leaves.iter_mut().enumerate() {
            let (lo, hi) = (b[p] - margin_mm, b[p + 1] + margin_mm);
            let (mut umin, mut umax) = (f64::MAX, f64::MIN);
            for q in points.iter().filter(|q| q[1] >= lo && q[1] <= hi) {
                umin = umin.min(q[0]);
                umax = umax.max(q[0]);
            }
            if umin <= umax {
                let lim = m.max_jaw_mm;
                *leaf = [(umin - margin_mm).max(-lim), (umax + margin_mm).min(lim)];
                open[p] = leaf[1] > leaf[0];
            }
        }
        let first = open.iter().position(|o| *o)?;
        let last = open.iter().rposition(|o| *o)?;
        let (mut xmin, mut xmax) = (f64::MAX, f64::MIN);
        for (leaf, _) in leaves.iter().zip(&open).filter(|(_, o)| **o) {
            xmin = xmin.min(leaf[0]);
            xmax = xmax.max(leaf[1]);
        }
        let (ymin, ymax) = points
            .iter()
            .fold((f64::MAX, f64::MIN), |a, q| (a.0.min(q[1]), a.1.max(q[1])));
        let jaw_y = [
            (ymin - margin_mm).max(b[first]),
            (ymax + margin_mm).min(b[last + 1]),
        ];
        // Closed pairs rest under the X1 jaw.
        for (leaf, _) in leaves.iter_mut().zip(&open).filter(|(_, o)| !**o) {
            *leaf = [xmin, xmin];
        }
        Some(Self {
            jaw_x_mm: [xmin, xmax],
            jaw_y_mm: jaw_y,
            leaves_mm: leaves,
        })
    }

    /// Checks the aperture against the machine, naming the first problem.
    pub fn check(&self, m: &PhotonMachine) -> Result<(), String> {
        let lim = m.max_jaw_mm + 1e-9;
        let [x1, x2] = self.jaw_x_mm;
        let [y1, y2] = self.jaw_y_mm;
        if !(x1 < x2 && y1 < y2) || [x1, x2, y1, y2].iter().any(|j| j.is_nan() || j.abs() > lim) {
            return Err(format!(
                "jaws X [{x1}, {x2}] Y [{y1}, {y2}] mm must be ordered and within ±{} mm",
                m.max_jaw_mm
            ));
        }
        if self.leaves_mm.len() != m.n_leaf_pairs() {
            return Err(format!(
                "{} leaf pairs, the machine has {}",
                self.leaves_mm.len(),
                m.n_leaf_pairs()
            ));
        }
        if let Some(p) = self
            .leaves_mm
            .iter()
            .position(|l| !(l[0].is_finite() && l[1].is_finite()) || l[0] > l[1] + 1e-9)
        {
            return Err(format!(
                "leaf pair {}: left {} mm beyond right {} mm",
                p + 1,
                self.leaves_mm[p][0],
                self.leaves_mm[p][1]
            ));
        }
        Ok(())
    }

    /// The fluence elements inside the jaws: the whole jaw field at the leaf
    /// transmission t, plus per leaf pair the open part (widened by the
    /// rounded-leaf-end offset) at 1 − t, so that open parts receive full
    /// fluence and covered parts t; the open parts are cut at the multiples of the
    /// machine's element size (along x, from the axis), and every element is weighted
    /// by the off-axis profile at its centre.
    pub fn elements(&self, m: &PhotonMachine) -> Vec<FluenceElement> {
        let [jx0, jx1] = self.jaw_x_mm;
        let [jy0, jy1] = self.jaw_y_mm;
        let b = &m.leaf_boundaries_mm;
        let element = |u0: f64, u1: f64, v0: f64, v1: f64, f: f64| {
            let (u, v) = (0.5 * (u0 + u1), 0.5 * (v0 + v1));
            FluenceElement {
                u_mm: u,
                v_mm: v,
                half_u_mm: 0.5 * (u1 - u0),
                half_v_mm: 0.5 * (v1 - v0),
                relative_fluence: f * m.off_axis_factor(u.hypot(v)),
            }
        };
        let t = m.leaf_transmission;
        let mut out = vec![element(jx0, jx1, jy0, jy1, t)];
        for (p, leaf) in self.leaves_mm.iter().enumerate() {
            let y0 = b[p].max(jy0);
            let y1 = b[p + 1].min(jy1);
            let o0 = (leaf[0] - m.leaf_end_offset_mm).clamp(jx0, jx1);
            let o1 = (leaf[1] + m.leaf_end_offset_mm).clamp(jx0, jx1);
            if y1 <= y0 || leaf[1] <= leaf[0] || o1 - o0 < 0.05 {
                continue;
            }
            // Cut at the multiples of the element size, so that apertures
            // sharing leaf positions share elements (`PhotonEngine` merges them).
            let step = m.max_element_mm;
            let mut u0 = o0;
            while u0 < o1 {
                let u1 = (((u0 / step).floor() + 1.0) * step).min(o1);
                out.push(element(u0, u1, y0, y1, 1.0 - t));
                u0 = u1;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 100 × 100 mm jaw field is the transmission field plus 20 pairs × 10
    /// pieces of 10 × 5 mm: the fluence integrates to the field's area; a
    /// conformal aperture around a 40 mm square with a 5 mm margin opens 10
    /// pairs to ±25 mm.
    #[test]
    fn jaw_field_and_conformal_aperture() {
        let m = PhotonMachine::generic_6mv();
        let field = Aperture::jaw_field(&m, [-50.0, 50.0], [-50.0, 50.0]);
        field.check(&m).unwrap();
        let e = field.elements(&m);
        assert_eq!(e.len(), 201);
        let fluence: f64 = e
            .iter()
            .map(|e| {
                let horn = m.off_axis_factor(e.u_mm.hypot(e.v_mm));
                4.0 * e.half_u_mm * e.half_v_mm * e.relative_fluence / horn
            })
            .sum();
        assert!((fluence - 10_000.0).abs() < 1e-6, "{fluence}");
        let square: Vec<[f64; 2]> = (0..=40)
            .flat_map(|i| (0..=40).map(move |j| [i as f64 - 20.0, j as f64 - 20.0]))
            .collect();
        let c = Aperture::conformal(&m, &square, 5.0).unwrap();
        c.check(&m).unwrap();
        assert_eq!(c.jaw_x_mm, [-25.0, 25.0]);
        assert_eq!(c.jaw_y_mm, [-25.0, 25.0]);
        let open = c.leaves_mm.iter().filter(|l| l[1] > l[0]).count();
        assert_eq!(open, 12, "pairs touching −25…25 mm with the margin");
        let mut bad = c.clone();
        bad.leaves_mm.pop();
        assert!(bad.check(&m).is_err());
    }
}
