//! The photon machine: a generic 6 MV linac with a 60-pair MLC.

use ferrodose_physics::photon_kernel::PhotonKernel;

/// A photon treatment machine.
#[derive(Debug, Clone)]
pub struct PhotonMachine {
    pub name: String,
    /// Source-to-axis distance (mm).
    pub sad_mm: f64,
    /// Gaussian σ of the source projected to the isocentre plane (mm): the
    /// geometric penumbra.
    pub source_sigma_mm: f64,
    /// Leaf-pair boundaries along the beam's-eye-view y axis (mm in the
    /// isocentre plane, increasing); pair p spans boundaries p..p + 1.
    pub leaf_boundaries_mm: Vec<f64>,
    /// Fluence through closed leaves relative to the open field.
    pub leaf_transmission: f64,
    /// How far (mm) the radiation edge of a rounded leaf end lies beyond its
    /// nominal position (half the dosimetric leaf gap).
    pub leaf_end_offset_mm: f64,
    /// Largest jaw position from the axis (mm): fields up to 2× this.
    pub max_jaw_mm: f64,
    /// Relative primary fluence in air versus radius in the isocentre plane
    /// (mm, factor), linearly interpolated: the flattened beam's horns.
    pub off_axis: Vec<[f64; 2]>,
    /// Largest fluence element along a leaf (mm); an open leaf pair is split
    /// into elements no longer than this.
    pub max_element_mm: f64,
    /// The pencil kernel of the beam's spectrum in water.
    pub kernel: &'static PhotonKernel,
}

impl PhotonMachine {
    /// A generic 6 MV flattened beam: SAD 1000 mm; Mohan 6 MV spectrum kernel;
    /// an effective source σ of 1.5 mm in the isocentre plane (a commissioning
    /// parameter standing for the focal spot, 0.5–3.4 mm FWHM per Jaffray et
    /// al., Med Phys 20:1417, 1993, magnified through the collimators, and the
    /// extra-focal radiation; chosen, not fitted to a measured profile);
    /// 60 leaf pairs, 40 central of
    /// 5 mm and 10 outer of 10 mm on each side (a Millennium-120-like
    /// layout); leaf transmission 1.5 % and a rounded-leaf-end offset of
    /// 0.5 mm per side (typical values, not a measured machine); horns rising
    /// to +5 % at 200 mm off axis (illustrative, to be replaced by a measured
    /// profile).
    pub fn generic_6mv() -> Self {
        let mut leaf_boundaries_mm = vec![-200.0];
        for _ in 0..10 {
            leaf_boundaries_mm.push(leaf_boundaries_mm.last().unwrap() + 10.0);
        }
        for _ in 0..40 {
            leaf_boundaries_mm.push(leaf_boundaries_mm.last().unwrap() + 5.0);
        }
        for _ in 0..10 {
            leaf_boundaries_mm.push(leaf_boundaries_mm.last().unwrap() + 10.0);
        }
        Self {
            name: "generic 6 MV".into(),
            sad_mm: 1000.0,
            source_sigma_mm: 1.5,
            leaf_boundaries_mm,
            leaf_transmission: 0.015,
            leaf_end_offset_mm: 0.5,
            max_jaw_mm: 200.0,
            off_axis: vec![
                [0.0, 1.0],
                [50.0, 1.01],
                [100.0, 1.03],
                [150.0, 1.045],
                [200.0, 1.05],
                [300.0, 1.05],
            ],
            max_element_mm: 10.0,
            kernel: PhotonKernel::builtin_6mv(),
        }
    }

    /// Leaf pairs.
    pub fn n_leaf_pairs(&self) -> usize {
        self.leaf_boundaries_mm.len() - 1
    }

    /// Relative fluence at radius `r_mm` in the isocentre plane.
    pub fn off_axis_factor(&self, r_mm: f64) -> f64 {
        let t = &self.off_axis;
        let k = t.partition_point(|p| p[0] <= r_mm);
        if k == 0 {
            return t[0][1];
        }
        if k == t.len() {
            return t[k - 1][1];
        }
        let (a, b) = (t[k - 1], t[k]);
        a[1] + (r_mm - a[0]) / (b[0] - a[0]) * (b[1] - a[1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generic_mlc_layout() {
        let m = PhotonMachine::generic_6mv();
        assert_eq!(m.n_leaf_pairs(), 60);
        assert_eq!(m.leaf_boundaries_mm[10], -100.0);
        assert_eq!(m.leaf_boundaries_mm[50], 100.0);
        assert_eq!(*m.leaf_boundaries_mm.last().unwrap(), 200.0);
        assert!((m.off_axis_factor(125.0) - 1.0375).abs() < 1e-12);
    }
}
