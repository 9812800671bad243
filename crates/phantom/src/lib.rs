//! Analytic phantoms defined as data in `phantoms/*.toml`.
//!
//! A phantom file gives the grid (extent of voxel centres in mm and voxel size),
//! the background HU, the regions of interest (name, DICOM interpreted type,
//! colour) and an ordered list of shapes. Each shape paints HU where its solid
//! holds a voxel centre (later shapes overwrite earlier ones) and/or adds those
//! voxels to a region of interest. A shape that paints HU also takes its voxels
//! out of every other ROI (except EXTERNAL ones and those it lies `within`), so
//! that the ROIs always describe the tissue the HU show. Coordinates are DICOM patient coordinates for
//! a head-first supine patient (mm): +x patient left, +y posterior, +z superior.

mod solid;

use ferrodose_grid::{Grid, Mask, PatientPosition, Point3, Volume};
use serde::Deserialize;
pub use solid::Solid;

/// Names of the phantoms built into ferrodose.
pub const BUILTIN: [&str; 3] = ["water", "slab", "liver"];

fn builtin_source(name: &str) -> Option<&'static str> {
    match name {
        "water" => Some(include_str!("../../../phantoms/water.toml")),
        "slab" => Some(include_str!("../../../phantoms/slab.toml")),
        "liver" => Some(include_str!("../../../phantoms/liver.toml")),
        _ => None,
    }
}

/// Why a phantom cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PhantomError {
    #[error("unknown phantom '{0}'; built-in phantoms are: water, slab, liver")]
    Unknown(String),
    #[error("phantom definition: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("phantom '{phantom}', shape {shape}: {problem}")]
    Shape {
        phantom: String,
        shape: usize,
        problem: String,
    },
    #[error("phantom '{phantom}': {problem}")]
    Definition { phantom: String, problem: String },
}

/// A phantom definition as read from TOML.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phantom {
    pub name: String,
    pub description: String,
    /// Voxel size (mm) along x, y, z.
    pub voxel_mm: [f64; 3],
    /// Lowest voxel-centre coordinates (mm).
    pub min_mm: [f64; 3],
    /// Highest voxel-centre coordinates (mm), rounded down to whole voxels.
    pub max_mm: [f64; 3],
    pub background_hu: f32,
    pub roi: Vec<RoiDef>,
    pub shape: Vec<Shape>,
}

/// A region of interest of a phantom.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoiDef {
    pub name: String,
    /// DICOM RT ROI Interpreted Type (EXTERNAL, GTV, PTV, ORGAN, …).
    #[serde(rename = "type")]
    pub interpreted_type: String,
    pub colour: [u8; 3],
}

/// One painting step: a solid, the HU it paints (if any) and the ROI it adds to (if any).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shape {
    pub hu: Option<f32>,
    pub roi: Option<String>,
    /// ROIs that keep the voxels this shape paints (for example a tumour `within` the liver).
    #[serde(default)]
    pub within: Vec<String>,
    #[serde(flatten)]
    pub solid: Solid,
}

/// A phantom rasterised on its grid.
#[derive(Debug, Clone)]
pub struct BuiltPhantom {
    pub name: String,
    pub hu: Volume<f32>,
    pub patient_position: PatientPosition,
    /// ROIs in definition order with their masks.
    pub rois: Vec<(RoiDef, Mask)>,
}

impl Phantom {
    /// A built-in phantom by name.
    pub fn builtin(name: &str) -> Result<Self, PhantomError> {
        let src = builtin_source(name).ok_or_else(|| PhantomError::Unknown(name.to_owned()))?;
        Self::from_toml(src)
    }

    /// Parses a phantom definition.
    pub fn from_toml(src: &str) -> Result<Self, PhantomError> {
        Ok(toml::from_str(src)?)
    }

    /// The voxel grid of the phantom (axial, HFS).
    pub fn grid(&self) -> Result<Grid, PhantomError> {
        let shape = [0, 1, 2].map(|a| {
            ((self.max_mm[a] - self.min_mm[a]) / self.voxel_mm[a] + 1e-6).floor() as usize + 1
        });
        Grid::axial(shape, self.voxel_mm, Point3::from(self.min_mm)).map_err(|e| {
            PhantomError::Definition {
                phantom: self.name.clone(),
                problem: e.to_string(),
            }
        })
    }

    /// Paints the shapes in order and collects the ROI masks.
    pub fn build(&self) -> Result<BuiltPhantom, PhantomError> {
        let grid = self.grid()?;
        let mut hu = Volume::filled(grid.clone(), self.background_hu);
        let mut rois: Vec<(RoiDef, Mask)> = self
            .roi
            .iter()
            .map(|r| (r.clone(), Mask::filled(grid.clone(), false)))
            .collect();
        let find = |rois: &[(RoiDef, Mask)], name: &str, shape: usize| {
            rois.iter()
                .position(|(r, _)| r.name == name)
                .ok_or_else(|| PhantomError::Shape {
                    phantom: self.name.clone(),
                    shape,
                    problem: format!("ROI '{name}' is not declared in [[roi]]"),
                })
        };
        for (n, shape) in self.shape.iter().enumerate() {
            if shape.hu.is_none() && shape.roi.is_none() {
                return Err(PhantomError::Shape {
                    phantom: self.name.clone(),
                    shape: n,
                    problem: "a shape needs hu, roi or both".into(),
                });
            }
            let data = (0..grid.len())
                .map(|idx| {
                    let [i, j, k] = grid.ijk(idx);
                    shape.solid.contains(&grid.voxel_centre(i, j, k))
                })
                .collect();
            let inside = Mask::from_vec(grid.clone(), data);
            if inside.count() == 0 {
                return Err(PhantomError::Shape {
                    phantom: self.name.clone(),
                    shape: n,
                    problem: "the solid holds no voxel centre of the grid".into(),
                });
            }
            if let Some(value) = shape.hu {
                for (h, _) in hu
                    .data_mut()
                    .iter_mut()
                    .zip(inside.data())
                    .filter(|(_, b)| **b)
                {
                    *h = value;
                }
                for name in &shape.within {
                    find(&rois, name, n)?;
                }
                for (r, m) in rois.iter_mut() {
                    let keep = r.interpreted_type == "EXTERNAL" || shape.within.contains(&r.name);
                    if !keep {
                        *m = m.minus(&inside);
                    }
                }
            }
            if let Some(name) = &shape.roi {
                let r = find(&rois, name, n)?;
                rois[r].1 = rois[r].1.union(&inside);
            }
        }
        if let Some((r, _)) = rois.iter().find(|(_, m)| m.count() == 0) {
            return Err(PhantomError::Definition {
                phantom: self.name.clone(),
                problem: format!("ROI '{}' has no shape", r.name),
            });
        }
        Ok(BuiltPhantom {
            name: self.name.clone(),
            hu,
            patient_position: PatientPosition::Hfs,
            rois,
        })
    }
}

impl BuiltPhantom {
    /// The mask of an ROI by name.
    pub fn roi(&self, name: &str) -> Option<&Mask> {
        self.rois
            .iter()
            .find(|(r, _)| r.name == name)
            .map(|(_, m)| m)
    }
}
