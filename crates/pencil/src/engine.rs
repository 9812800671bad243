//! From beams and spots to the `ion_pb_dose` kernel's buffers, and the dose.

use crate::base_data::{IonBaseData, Quantity};
use crate::influence::dose_by_segments;
use crate::reach::piece_reach2;
use ferrodose_gpu::{
    Backend, GpuError, InfluenceError, IonPbDose, IonPbParams, IonPbSpot, WedProfiles, WedRay,
    GY_PER_MEV_CM2_G_PER_MM2,
};
use ferrodose_grid::{BeamGeometry, Grid, IndexRay, Vector3, Volume};
use ferrodose_physics::scattering::{highland_log_factor, WATER_RADIATION_LENGTH_G_CM2};
use rayon::prelude::*;
use std::collections::HashMap;

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
    #[error(transparent)]
    Influence(#[from] InfluenceError),
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
    /// Share of each depth's laterally integrated dose that the lateral
    /// cut-off may leave out (`LATERAL_CUTOFF_FRACTION` by default).
    pub lateral_cutoff_fraction: f64,
}

/// The default lateral cut-off: 99.5 % of each depth's laterally integrated
/// dose is kept (matRad's default `lateralCutOff` level, Wieser et al., Med
/// Phys 44:2556, 2017).
pub const LATERAL_CUTOFF_FRACTION: f64 = 0.005;

/// The squared cut-off radius, in units of its σ, of a Gaussian holding
/// `share` of a depth's dose so that it leaves out at most half of `fraction`
/// of that dose: a 2-D Gaussian holds e^(−r²/2σ²) of its dose beyond r, so
/// r²/σ² = 2 ln(2·share/fraction); 0 (the Gaussian is left out) where its
/// whole share is within that half. Core and tail each take half, so that
/// together they leave out at most `fraction`.
pub fn cutoff_sigmas2(share: f64, fraction: f64) -> f64 {
    (2.0 * (2.0 * share / fraction).ln()).max(0.0)
}

/// `params` for the voxel centres of `grid`: its first centre, its steps per
/// index (axis × spacing, mm) and its shape; the rest as in `params`.
pub(crate) fn on_grid(params: &IonPbParams, grid: &Grid) -> IonPbParams {
    let step = |a: usize| {
        let v = grid.axis(a) * grid.spacing_mm()[a];
        [v.x as f32, v.y as f32, v.z as f32, 0.0]
    };
    let o = grid.origin_mm();
    let [nx, ny, nz] = grid.shape();
    IonPbParams {
        grid_origin: [o.x as f32, o.y as f32, o.z as f32, 0.0],
        step_i: step(0),
        step_j: step(1),
        step_k: step(2),
        nx: nx as u32,
        ny: ny as u32,
        nz: nz as u32,
        ..*params
    }
}

/// How far upstream of the isocentre the spot rays start (mm); beyond any CT.
const RAY_START_MM: f64 = 2000.0;

impl<'a> PencilBeamEngine<'a> {
    /// An engine with 0.5 mm WED profiles and the default lateral cut-off.
    pub fn new(base: &'a IonBaseData, rsp: &'a Volume<f32>) -> Self {
        Self {
            base,
            rsp,
            profile_step_mm: 0.5,
            lateral_cutoff_fraction: LATERAL_CUTOFF_FRACTION,
        }
    }

    /// The core's cut-off in its σ: its share is at most 1.
    fn core_cutoff_sigmas(&self) -> f64 {
        cutoff_sigmas2(1.0, self.lateral_cutoff_fraction).sqrt()
    }

    /// Writes (WED, σ_MCS) into `profile` for each sample of a spot's WED
    /// profile `wed_mm` (one sample per `profile_step_mm` of path from the
    /// CT's surface) and base-data row `row`. σ_MCS (mm) is the Fermi–Eyges
    /// moment of water's scattering power at each step's WED with geometric
    /// lever arms, σ²(z) = F(w) Σₖ T(wₖ) Δwₖ (z − zₖ)², F Highland's
    /// logarithmic factor at the WED w reached. In water this is the
    /// generalised Highland σ of `pencil_beam_spread`; through low-density
    /// tissue (lung) the same WED is spread over a longer path, so the lever
    /// arms and σ grow. Held from 99 % of the CSDA range on.
    fn fill_profile(&self, row: usize, wed_mm: &[f32], profile: &mut [[f32; 2]]) {
        assert_eq!(wed_mm.len(), profile.len(), "one profile sample per WED");
        let n = self.base.n_depth;
        let power = &self.base.scattering_power[row * n..][..n];
        let step = self.base.depth_step_mm;
        let hold_from_mm = 0.99 * self.base.csda_mm[row];
        let (mut a0, mut a1, mut a2) = (0.0f64, 0.0f64, 0.0f64);
        let mut sigma = 0.0f32;
        for (k, out) in profile.iter_mut().enumerate() {
            let w1 = f64::from(wed_mm[k]);
            if k > 0 && w1 < hold_from_mm {
                let w0 = f64::from(wed_mm[k - 1]);
                let x = 0.5 * (w0 + w1) / step;
                let i = (x as usize).min(n - 2);
                let f = x - i as f64;
                let t = f64::from(power[i]) * (1.0 - f) + f64::from(power[i + 1]) * f;
                let a = t * (w1 - w0);
                let z_mid = (k as f64 - 0.5) * self.profile_step_mm;
                a0 += a;
                a1 += a * z_mid;
                a2 += a * z_mid * z_mid;
                let z = k as f64 * self.profile_step_mm;
                let log_factor = highland_log_factor(w1 / 10.0, WATER_RADIATION_LENGTH_G_CM2);
                sigma = (log_factor * (a0 * z * z - 2.0 * a1 * z + a2))
                    .max(0.0)
                    .sqrt() as f32;
            }
            *out = [wed_mm[k], sigma];
        }
    }

    /// Spot `s` of beam `b`, checked: its energy's base-data row and its
    /// central ray clipped to the CT (direction and index ray).
    fn spot_ray(
        &self,
        beam: &BeamSpots,
        b: usize,
        s: usize,
    ) -> Result<(usize, Vector3<f64>, IndexRay), PencilError> {
        let spot = &beam.spots[s];
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
        let (dir, ray) = beam
            .geometry
            .frame()
            .aimed_ray(
                self.rsp.grid(),
                (spot.x_mm, spot.y_mm),
                beam.virtual_source_mm,
                RAY_START_MM,
                self.profile_step_mm,
            )
            .ok_or_else(|| {
                err(format!(
                    "the ray through ({:.1}, {:.1}) mm in the beam's eye view misses the CT",
                    spot.x_mm, spot.y_mm
                ))
            })?;
        Ok((row, dir, ray))
    }

    /// The kernel's input for `beams` on `dose_grid`. Each spot's central ray
    /// runs from the beam's virtual source (or parallel to its axis) through
    /// the spot's position in the isocentre plane; its WED profile through
    /// the RSP volume is ray-cast on `backend` (`wed_profile` kernel, once
    /// per beam and spot position, whatever the energies there), its
    /// σ_MCS profile integrated from that on the CPU.
    pub fn kernel_input(
        &self,
        beams: &[BeamSpots],
        dose_grid: &Grid,
        backend: &Backend,
    ) -> Result<IonPbDose, PencilError> {
        let index: Vec<(usize, usize)> = beams
            .iter()
            .enumerate()
            .flat_map(|(b, beam)| (0..beam.spots.len()).map(move |s| (b, s)))
            .collect();
        let rays: Vec<(usize, Vector3<f64>, IndexRay)> = index
            .par_iter()
            .map(|(b, s)| self.spot_ray(&beams[*b], *b, *s))
            .collect::<Result<_, _>>()?;
        // The spots of one beam at one position share their central ray
        // (their energies differ): its WED profile is traced once.
        let mut first_at: HashMap<(usize, u64, u64), usize> = HashMap::new();
        let mut traced = Vec::new();
        let ray_of_spot: Vec<usize> = index
            .iter()
            .zip(&rays)
            .map(|((b, s), (_, _, r))| {
                let spot = &beams[*b].spots[*s];
                let key = (*b, spot.x_mm.to_bits(), spot.y_mm.to_bits());
                *first_at.entry(key).or_insert_with(|| {
                    traced.push(WedRay::new(
                        r.entry_index,
                        r.index_per_mm,
                        self.profile_step_mm,
                        r.n_samples,
                    ));
                    traced.len() - 1
                })
            })
            .collect();
        let rays_wed = WedProfiles::new(self.rsp.grid().shape(), traced);
        let wed = rays_wed.trace(backend, self.rsp.data())?;
        let table = self
            .base
            .kernel_table(Quantity::Dose, self.lateral_cutoff_fraction);
        // Each spot's (WED, σ_MCS) profile, written in place, ends at its
        // first sample as deep as its energy's tables are zero
        // (`IonBaseData::zero_from_mm`): the kernels hold the last sample
        // beyond a profile's end, so deeper samples add nothing.
        let zero_from: Vec<f64> = (0..self.base.energies_mev_u.len())
            .map(|row| self.base.zero_from_mm(row))
            .collect();
        let kept_wed: Vec<&[f32]> = rays
            .par_iter()
            .zip(&ray_of_spot)
            .map(|((row, _, _), ray)| {
                let r = &rays_wed.rays[*ray];
                let all = &wed[r.offset as usize..][..r.n_samples as usize];
                let end = all
                    .iter()
                    .position(|w| f64::from(*w) >= zero_from[*row])
                    .map_or(all.len(), |last| last + 1);
                &all[..end]
            })
            .collect();
        let mut profiles = vec![[0.0f32; 2]; kept_wed.iter().map(|w| w.len()).sum()];
        let mut slots = Vec::with_capacity(rays.len());
        let mut rest = profiles.as_mut_slice();
        let mut offset = 0u32;
        for w in kept_wed {
            let (mine, tail) = rest.split_at_mut(w.len());
            slots.push((w, offset, mine));
            offset += w.len() as u32;
            rest = tail;
        }
        let spots: Vec<IonPbSpot> = index
            .par_iter()
            .zip(&rays)
            .zip(slots)
            .map(|(((b, s), (row, dir, ray)), (wed, offset, profile))| {
                let (beam, spot) = (&beams[*b], &beams[*b].spots[*s]);
                self.fill_profile(*row, wed, profile);
                let n = self.base.n_depth;
                let reach2 = piece_reach2(
                    &table[row * n..][..n],
                    self.base.depth_step_mm,
                    self.core_cutoff_sigmas().powi(2),
                    beam.sigma_air_mm,
                    profile,
                )
                .into_iter()
                .fold(0.0, f64::max);
                let e = ray.entry_mm;
                IonPbSpot {
                    origin: [e.x as f32, e.y as f32, e.z as f32, reach2 as f32],
                    dir: [dir.x as f32, dir.y as f32, dir.z as f32, spot.weight as f32],
                    sigma_air_mm: beam.sigma_air_mm as f32,
                    energy: *row as u32,
                    profile_offset: offset,
                    profile_len: profile.len() as u32,
                }
            })
            .collect();
        // The grid's fields are set by `on_grid`; offsets per dispatch.
        let params = IonPbParams {
            grid_origin: [0.0; 4],
            step_i: [0.0; 4],
            step_j: [0.0; 4],
            step_k: [0.0; 4],
            nx: 0,
            ny: 0,
            nz: 0,
            voxel_offset: 0,
            n_voxels: 0,
            _pad0: 0,
            n_spots: spots.len() as u32,
            n_depth: self.base.n_depth as u32,
            depth_step_mm: self.base.depth_step_mm as f32,
            profile_step_mm: self.profile_step_mm as f32,
            cutoff_sigmas: self.core_cutoff_sigmas() as f32,
            gy_per_unit: GY_PER_MEV_CM2_G_PER_MM2,
        };
        Ok(IonPbDose {
            params: on_grid(&params, dose_grid),
            spots,
            depth_table: table,
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
    /// once and the dose is computed once per quantity's depth table, on the
    /// GPU by the `ion_pb_dose` kernel (every voxel against every spot), on
    /// the CPU over each spot's reach only (`dose_by_segments`).
    pub fn doses(
        &self,
        beams: &[BeamSpots],
        dose_grid: &Grid,
        backend: &Backend,
        quantities: &[Quantity],
    ) -> Result<Vec<Volume<f32>>, PencilError> {
        let mut input = self.kernel_input(beams, dose_grid, backend)?;
        quantities
            .iter()
            .map(|q| {
                input.depth_table = self.base.kernel_table(*q, self.lateral_cutoff_fraction);
                let dose = match backend {
                    Backend::Cpu { .. } => dose_by_segments(&input, dose_grid)?,
                    Backend::Gpu(_) => input.dose(backend)?,
                };
                Ok(Volume::from_vec(dose_grid.clone(), dose))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodose_physics::scattering::{highland_scattering_power, pencil_beam_spread};

    /// ∫ₐᵇ f by the midpoint rule on 4000 intervals.
    fn integrate(a: f64, b: f64, f: impl Fn(f64) -> f64) -> f64 {
        let h = (b - a) / 4000.0;
        (0..4000)
            .map(|i| f(a + (f64::from(i) + 0.5) * h))
            .sum::<f64>()
            * h
    }

    /// σ_MCS along a 150 MeV proton ray of `wed_mm` per 0.5 mm of path.
    fn profile(base: &IonBaseData, wed_mm: &[f32]) -> Vec<f32> {
        let rsp = Volume::filled(
            Grid::axial([1, 1, 1], [1.0; 3], Default::default()).unwrap(),
            1.0,
        );
        let mut profile = vec![[0.0; 2]; wed_mm.len()];
        PencilBeamEngine::new(base, &rsp).fill_profile(0, wed_mm, &mut profile);
        assert!(profile.iter().zip(wed_mm).all(|(p, w)| p[0] == *w));
        profile.iter().map(|p| p[1]).collect()
    }

    /// In water (WED = path) the moments give the generalised Highland σ of
    /// the physics crate (`pencil_beam_spread`) within 1 % at 25–90 % of the
    /// range.
    #[test]
    fn water_moments_match_the_generalised_highland_spread() {
        let base = IonBaseData::protons(&[150.0], |_| 0.0, 0.1).unwrap();
        let wed: Vec<f32> = (0..400).map(|k| k as f32 * 0.5).collect();
        let sigma = profile(&base, &wed);
        for f in [0.25, 0.5, 0.75, 0.9] {
            let z = f * base.csda_mm[0];
            let k = (z / 0.5).round() as usize;
            let (_, want_cm) = pencil_beam_spread(
                &base.range_table,
                150.0,
                k as f64 * 0.05,
                WATER_RADIATION_LENGTH_G_CM2,
            )
            .unwrap();
            let got = f64::from(sigma[k]);
            assert!(
                (got / (want_cm * 10.0) - 1.0).abs() < 0.01,
                "{f}: {got} vs {}",
                want_cm * 10.0
            );
        }
    }

    /// 50 mm of water, 100 mm of lung (RSP 0.25), then water: at each depth
    /// the moments equal a direct quadrature of Fermi–Eyges over the path,
    /// σ² = F(w) ∫ T(w(z′)) (dw/dz′) (z − z′)² dz′, within 1 %; and 20 mm past
    /// the lung σ exceeds water's at the same WED, the lung's longer lever arm.
    #[test]
    fn lung_lengthens_the_lever_arm() {
        let base = IonBaseData::protons(&[150.0], |_| 0.0, 0.1).unwrap();
        let rsp_at = |z: f64| {
            if (50.0..150.0).contains(&z) {
                0.25
            } else {
                1.0
            }
        };
        let wed_at = |z: f64| {
            if z < 50.0 {
                z
            } else if z < 150.0 {
                50.0 + 0.25 * (z - 50.0)
            } else {
                75.0 + (z - 150.0)
            }
        };
        let wed: Vec<f32> = (0..500).map(|k| wed_at(k as f64 * 0.5) as f32).collect();
        let sigma = profile(&base, &wed);
        let r0 = base.csda_mm[0] / 10.0;
        let water = profile(&base, &(0..500).map(|k| k as f32 * 0.5).collect::<Vec<_>>());
        for z in [40.0, 100.0, 150.0, 170.0, 200.0] {
            let power = |zp: f64| {
                highland_scattering_power(&base.range_table, r0, wed_at(zp) / 10.0, 36.08) / 10.0
                    * rsp_at(zp)
            };
            let quadrature: f64 = [(0.0, 50.0), (50.0, 150.0), (150.0, z)]
                .iter()
                .filter(|(a, _)| *a < z)
                .map(|&(a, b)| integrate(a, b.min(z), |zp| power(zp) * (z - zp).powi(2)))
                .sum();
            let want = (highland_log_factor(wed_at(z) / 10.0, 36.08) * quadrature).sqrt();
            let got = f64::from(sigma[(z / 0.5) as usize]);
            assert!((got / want - 1.0).abs() < 0.01, "{z} mm: {got} vs {want}");
        }
        let (k_lung, k_water) = ((170.0 / 0.5) as usize, (95.0 / 0.5) as usize);
        assert_eq!(wed[k_lung], 95.0);
        eprintln!(
            "WED 95 mm: σ {} mm behind lung, {} mm in water",
            sigma[k_lung], water[k_water]
        );
        assert!(sigma[k_lung] > 1.3 * water[k_water]);
    }
}
