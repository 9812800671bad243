//! From beams and spots to the `ion_pb_dose` kernel's buffers, and the dose.

use crate::base_data::{IonBaseData, Quantity};
use ferrodose_gpu::{
    Backend, GpuError, IonPbDose, IonPbParams, IonPbSpot, GY_PER_MEV_CM2_G_PER_MM2,
};
use ferrodose_grid::{wed_profile, BeamGeometry, Grid, Volume};

/// One spot: energy, position in the beam's-eye view at the isocentre plane, weight.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spot {
    /// Energy per nucleon (MeV/u; MeV for protons); must be a row of the base data.
    pub energy_mev_u: f64,
    /// Beam's-eye-view position at the isocentre plane (mm).
    pub x_mm: f64,
    pub y_mm: f64,
    /// Number of particles.
    pub weight: f64,
}

/// Spots that share a beam geometry and a spot size in air: a beam, or one
/// energy layer of it.
#[derive(Debug, Clone)]
pub struct BeamSpots {
    pub geometry: BeamGeometry,
    /// Spot σ in air at the patient (mm), the same for all spots of the beam.
    pub sigma_air_mm: f64,
    /// Virtual source-to-axis distance (mm): spot rays diverge from it; `None`
    /// for rays parallel to the beam axis.
    pub virtual_source_mm: Option<f64>,
    pub spots: Vec<Spot>,
}

/// Why a dose cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum PencilError {
    #[error("beam {beam}, spot {spot}: {problem}")]
    Spot {
        beam: usize,
        spot: usize,
        problem: String,
    },
    #[error(transparent)]
    Gpu(#[from] GpuError),
}

/// Spot energies closer than this (MeV/u) are one energy: one base-data row,
/// one energy layer.
pub const SAME_ENERGY_MEV_U: f64 = 0.01;

/// The distinct spot energies (MeV/u) of `beams`, ascending; energies within
/// `SAME_ENERGY_MEV_U` of each other count as one (one base-data row each).
pub fn distinct_energies(beams: &[BeamSpots]) -> Vec<f64> {
    let mut energies: Vec<f64> = beams
        .iter()
        .flat_map(|b| b.spots.iter().map(|s| s.energy_mev_u))
        .collect();
    energies.sort_by(f64::total_cmp);
    energies.dedup_by(|a, b| (*a - *b).abs() < SAME_ENERGY_MEV_U);
    energies
}

/// The pencil-beam engine over one relative-stopping-power volume.
pub struct PencilBeamEngine<'a> {
    pub base: &'a IonBaseData,
    /// RSP on the CT grid; WED profiles are traced through it.
    pub rsp: &'a Volume<f32>,
    /// Geometric step of the WED profiles (mm).
    pub profile_step_mm: f64,
    /// Lateral cut-off in σ (5σ keeps all but 4·10⁻⁶ of a Gaussian's integral).
    pub cutoff_sigmas: f64,
}

/// How far upstream of the isocentre the spot rays start (mm); beyond any CT.
const RAY_START_MM: f64 = 2000.0;

impl<'a> PencilBeamEngine<'a> {
    /// An engine with 0.5 mm WED profiles and a 5σ lateral cut-off.
    pub fn new(base: &'a IonBaseData, rsp: &'a Volume<f32>) -> Self {
        Self {
            base,
            rsp,
            profile_step_mm: 0.5,
            cutoff_sigmas: 5.0,
        }
    }

    /// The kernel's input for `beams` on `dose_grid`. Each spot's central ray
    /// runs from the beam's virtual source (or parallel to its axis) through
    /// the spot's position in the isocentre plane.
    pub fn kernel_input(
        &self,
        beams: &[BeamSpots],
        dose_grid: &Grid,
    ) -> Result<IonPbDose, PencilError> {
        let mut spots = Vec::new();
        let mut profiles = Vec::new();
        for (b, beam) in beams.iter().enumerate() {
            let frame = beam.geometry.frame();
            for (s, spot) in beam.spots.iter().enumerate() {
                let dir = frame.ray_direction(spot.x_mm, spot.y_mm, beam.virtual_source_mm);
                let err = |problem: String| PencilError::Spot {
                    beam: b,
                    spot: s,
                    problem,
                };
                let row = self.base.row(spot.energy_mev_u).map_err(err)?;
                if !(spot.weight >= 0.0 && spot.weight.is_finite()) {
                    return Err(err(format!(
                        "weight {} must be finite and non-negative",
                        spot.weight
                    )));
                }
                let through = frame.bev_to_patient(spot.x_mm, spot.y_mm);
                let start = through - dir * RAY_START_MM;
                let profile = wed_profile(
                    self.rsp,
                    &start,
                    &dir,
                    2.0 * RAY_START_MM,
                    self.profile_step_mm,
                )
                .ok_or_else(|| {
                    err(format!(
                        "the ray through ({:.1}, {:.1}) mm in the beam's eye view misses the CT",
                        spot.x_mm, spot.y_mm
                    ))
                })?;
                let e = profile.entry_mm;
                let max_mcs = self.base.sigma_mcs_mm
                    [row * self.base.n_depth..(row + 1) * self.base.n_depth]
                    .iter()
                    .fold(0.0f32, |m, v| m.max(*v));
                let reach2 = self.cutoff_sigmas.powi(2)
                    * (beam.sigma_air_mm.powi(2) + f64::from(max_mcs).powi(2));
                spots.push(IonPbSpot {
                    origin: [e.x as f32, e.y as f32, e.z as f32, reach2 as f32],
                    dir: [dir.x as f32, dir.y as f32, dir.z as f32, spot.weight as f32],
                    sigma_air_mm: beam.sigma_air_mm as f32,
                    energy: row as u32,
                    profile_offset: profiles.len() as u32,
                    profile_len: profile.wed_mm.len() as u32,
                });
                profiles.extend(profile.wed_mm);
            }
        }
        let g = dose_grid;
        let step = |a: usize| {
            let v = g.axis(a) * g.spacing_mm()[a];
            [v.x as f32, v.y as f32, v.z as f32, 0.0]
        };
        let o = g.origin_mm();
        let [nx, ny, nz] = g.shape();
        Ok(IonPbDose {
            params: IonPbParams {
                grid_origin: [o.x as f32, o.y as f32, o.z as f32, 0.0],
                step_i: step(0),
                step_j: step(1),
                step_k: step(2),
                nx: nx as u32,
                ny: ny as u32,
                nz: nz as u32,
                n_spots: spots.len() as u32,
                n_depth: self.base.n_depth as u32,
                voxel_offset: 0,
                n_voxels: 0,
                _pad0: 0,
                depth_step_mm: self.base.depth_step_mm as f32,
                profile_step_mm: self.profile_step_mm as f32,
                cutoff_sigmas: self.cutoff_sigmas as f32,
                gy_per_unit: GY_PER_MEV_CM2_G_PER_MM2,
            },
            spots,
            idd: self.base.idd.clone(),
            sigma_mcs: self.base.sigma_mcs_mm.clone(),
            profiles,
        })
    }

    /// Dose to water (Gy) of `beams` on `dose_grid`.
    pub fn dose(
        &self,
        beams: &[BeamSpots],
        dose_grid: &Grid,
        backend: &Backend,
    ) -> Result<Volume<f32>, PencilError> {
        Ok(self
            .doses(beams, dose_grid, backend, &[Quantity::Dose])?
            .remove(0))
    }

    /// One volume per quantity of `beams` on `dose_grid`: the rays are traced
    /// once and the kernel runs once per quantity's depth table.
    pub fn doses(
        &self,
        beams: &[BeamSpots],
        dose_grid: &Grid,
        backend: &Backend,
        quantities: &[Quantity],
    ) -> Result<Vec<Volume<f32>>, PencilError> {
        let mut input = self.kernel_input(beams, dose_grid)?;
        quantities
            .iter()
            .map(|q| {
                input.idd = self.base.table(*q).to_vec();
                Ok(Volume::from_vec(dose_grid.clone(), input.dose(backend)?))
            })
            .collect()
    }
}
