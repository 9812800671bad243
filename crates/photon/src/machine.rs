//! The photon machine and its file (TOML): beam quality, source-to-axis
//! distance, source size, MLC layout, leaf transmission and leaf-end offset,
//! jaws and off-axis fluence. The built-in generic linacs with a 60-pair MLC
//! are such files (`machines/generic_6mv.toml`, `machines/generic_10mv_fff.toml`).

use ferrodose_physics::photon_kernel::PhotonKernel;
use ferrodose_physics::photon_spectrum::PhotonBeam;
use serde::Deserialize;
use std::path::Path;

/// A photon machine file, as written (checked by `PhotonMachine::parse`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MachineFile {
    name: String,
    /// Beam quality, which selects the spectrum and kernel: "6MV" or "10MV-FFF".
    beam: String,
    sad_mm: f64,
    source_sigma_mm: f64,
    /// (pairs, width mm at the isocentre) from −y to +y, centred on the axis.
    leaf_pairs: Vec<(u32, f64)>,
    leaf_transmission_pct: f64,
    leaf_end_offset_mm: f64,
    max_jaw_mm: f64,
    max_element_mm: f64,
    /// (radius mm, relative fluence).
    off_axis: Vec<(f64, f64)>,
}

/// Why a photon machine file is refused: the file, the key and the problem.
#[derive(Debug, thiserror::Error)]
#[error("{source_name}: {key}: {problem}")]
pub struct MachineError {
    pub source_name: String,
    pub key: String,
    pub problem: String,
}

/// A photon treatment machine.
#[derive(Debug, Clone)]
pub struct PhotonMachine {
    pub name: String,
    /// Beam quality (spectrum and kernel).
    pub beam: PhotonBeam,
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
    /// (mm, factor), linearly interpolated: a flattened beam's horns or an
    /// unflattened beam's cone.
    pub off_axis: Vec<[f64; 2]>,
    /// Largest fluence element along a leaf (mm); an open leaf pair is split
    /// into elements no longer than this.
    pub max_element_mm: f64,
    /// The pencil kernel of the beam's spectrum in water.
    pub kernel: &'static PhotonKernel,
}

impl PhotonMachine {
    /// The built-in machines: the name a plan gives (`machine = "…"`) and
    /// the beam quality whose generic machine it is ([`Self::generic`]).
    pub const BUILTIN: [(&'static str, PhotonBeam); 2] = [
        ("generic_6mv", PhotonBeam::SixMv),
        ("generic_10mv_fff", PhotonBeam::TenMvFff),
    ];

    /// The built-in machine of `beam`, a file in `machines/`:
    /// - 6 MV flattened (`generic_6mv.toml`): SAD 1000 mm; Mohan 6 MV
    ///   spectrum kernel; effective source σ 1.5 mm; 60 leaf pairs, 40 central
    ///   of 5 mm and 10 outer of 10 mm on each side; leaf transmission 1.5 %;
    ///   rounded-leaf-end offset 0.5 mm; horns rising to +5 % at 200 mm off
    ///   axis. Typical and illustrative values, not a measured machine.
    /// - 10 MV flattening-filter free (`generic_10mv_fff.toml`): the same MLC
    ///   and jaws with the Faddegon et al. 10 MeV spectrum's kernel, a 0.6 mm
    ///   source σ and an unflattened beam's cone fitted to measured off-axis
    ///   ratios (`docs/photon.md`).
    pub fn generic(beam: PhotonBeam) -> Self {
        let (text, file) = match beam {
            PhotonBeam::SixMv => (
                include_str!("../machines/generic_6mv.toml"),
                "generic_6mv.toml",
            ),
            PhotonBeam::TenMvFff => (
                include_str!("../machines/generic_10mv_fff.toml"),
                "generic_10mv_fff.toml",
            ),
        };
        Self::parse(text, file).expect("the built-in machine file is valid")
    }

    /// The generic 6 MV machine ([`Self::generic`]), used where a photon
    /// plan names none.
    pub fn generic_6mv() -> Self {
        Self::generic(PhotonBeam::SixMv)
    }

    /// The generic 10 MV FFF machine ([`Self::generic`]).
    pub fn generic_10mv_fff() -> Self {
        Self::generic(PhotonBeam::TenMvFff)
    }

    /// The built-in machine called `name` (one of [`Self::BUILTIN`]).
    pub fn builtin(name: &str) -> Option<Self> {
        Self::BUILTIN
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, beam)| Self::generic(*beam))
    }

    /// Reads a machine file (TOML, format in `docs/plan-format.md`).
    pub fn load(path: &Path) -> Result<Self, MachineError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| MachineError {
            source_name: name.clone(),
            key: "file".into(),
            problem: e.to_string(),
        })?;
        Self::parse(&text, &name)
    }

    /// Parses and checks a machine file; errors name the file and the key.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, MachineError> {
        let bad = |key: &str, problem: String| MachineError {
            source_name: source_name.to_owned(),
            key: key.to_owned(),
            problem,
        };
        let f: MachineFile = toml::from_str(text).map_err(|e| bad("toml", e.message().into()))?;
        let beam = PhotonBeam::parse(&f.beam).ok_or_else(|| {
            bad(
                "beam",
                format!(
                    "'{}': ferrodose has a spectrum and kernel for {} only (no 6 MV flattening-filter-free beam yet)",
                    f.beam,
                    PhotonBeam::known_names()
                ),
            )
        })?;
        let positive = |key: &str, v: f64| {
            if v > 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(bad(key, format!("{v}: must be a positive number")))
            }
        };
        let non_negative = |key: &str, v: f64| {
            if v >= 0.0 && v.is_finite() {
                Ok(v)
            } else {
                Err(bad(key, format!("{v}: must be zero or positive")))
            }
        };
        if f.leaf_pairs.is_empty() {
            return Err(bad(
                "leaf_pairs",
                "give at least one [pairs, width_mm]".into(),
            ));
        }
        let mut widths = Vec::new();
        for (n, &(count, width)) in f.leaf_pairs.iter().enumerate() {
            let key = format!("leaf_pairs[{n}]");
            if count == 0 {
                return Err(bad(&key, "0 pairs".into()));
            }
            widths.extend(std::iter::repeat_n(positive(&key, width)?, count as usize));
        }
        let half = 0.5 * widths.iter().sum::<f64>();
        let mut leaf_boundaries_mm = vec![-half];
        for w in widths {
            leaf_boundaries_mm.push(leaf_boundaries_mm.last().expect("one boundary") + w);
        }
        if !(0.0..100.0).contains(&f.leaf_transmission_pct) {
            return Err(bad(
                "leaf_transmission_pct",
                format!("{}: must lie in 0–100 %", f.leaf_transmission_pct),
            ));
        }
        let off_axis: Vec<[f64; 2]> = f.off_axis.iter().map(|&(r, v)| [r, v]).collect();
        if off_axis.first().map(|p| p[0]) != Some(0.0)
            || off_axis.windows(2).any(|w| w[1][0] <= w[0][0])
            || off_axis
                .iter()
                .any(|p| !(p[1] > 0.0 && p[0].is_finite() && p[1].is_finite()))
        {
            return Err(bad(
                "off_axis",
                "give [radius_mm, factor] rows with radii ascending from 0 and positive factors"
                    .into(),
            ));
        }
        Ok(Self {
            name: f.name,
            beam,
            sad_mm: positive("sad_mm", f.sad_mm)?,
            source_sigma_mm: non_negative("source_sigma_mm", f.source_sigma_mm)?,
            leaf_boundaries_mm,
            leaf_transmission: 0.01 * f.leaf_transmission_pct,
            leaf_end_offset_mm: non_negative("leaf_end_offset_mm", f.leaf_end_offset_mm)?,
            max_jaw_mm: positive("max_jaw_mm", f.max_jaw_mm)?,
            off_axis,
            max_element_mm: positive("max_element_mm", f.max_element_mm)?,
            kernel: PhotonKernel::builtin(beam),
        })
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
        assert!((m.leaf_transmission - 0.015).abs() < 1e-15);
        assert_eq!(m.sad_mm, 1000.0);
    }

    /// The built-in machines by name: the 10 MV FFF machine has its beam's
    /// kernel and a cone falling to 0.44 at 160 mm; unknown names are none.
    #[test]
    fn builtin_machines_by_name() {
        for (name, beam) in PhotonMachine::BUILTIN {
            assert_eq!(
                PhotonMachine::builtin(name).map(|m| m.beam),
                Some(beam),
                "{name}"
            );
        }
        let m = PhotonMachine::builtin("generic_10mv_fff").unwrap();
        assert_eq!(m.beam, PhotonBeam::TenMvFff);
        assert_eq!(m.kernel.spectrum, "10 MV FFF");
        assert!((m.off_axis_factor(160.0) - 0.4442).abs() < 1e-12);
        assert!(m.off_axis_factor(50.0) < m.off_axis_factor(20.0));
        assert_eq!(PhotonMachine::generic_6mv().beam, PhotonBeam::SixMv);
        assert!(PhotonMachine::builtin("generic_6mv_fff").is_none());
    }

    /// Bad files are refused naming the key.
    #[test]
    fn refuses_bad_machine_files() {
        let good = include_str!("../machines/generic_6mv.toml");
        let refuse = |from: &str, to: &str, key: &str| {
            let text = good.replace(from, to);
            assert_ne!(text, good, "{from}");
            let e = PhotonMachine::parse(&text, "m.toml").unwrap_err();
            assert_eq!(e.key, key, "{e}");
            assert!(e.to_string().starts_with("m.toml: "), "{e}");
        };
        refuse("beam = \"6MV\"", "beam = \"6MV FFF\"", "beam");
        refuse("sad_mm = 1000.0", "sad_mm = -1.0", "sad_mm");
        refuse("[40, 5.0]", "[40, 0.0]", "leaf_pairs[1]");
        refuse(
            "leaf_transmission_pct = 1.5",
            "leaf_transmission_pct = 150.0",
            "leaf_transmission_pct",
        );
        refuse("[50.0, 1.01]", "[0.0, 1.01]", "off_axis");
        refuse("max_jaw_mm = 200.0", "max_jaw_mm = 200.0\njaws = 1", "toml");
    }
}
