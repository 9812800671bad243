//! DICOM RT Plan and RT Ion Plan beams as the engines' control points and
//! spots, for recalculation (`ferrodose recalc`, or `rtplan` in a plan file).
//!
//! Photons: the dose of each segment between two control points (its meterset
//! increment) is computed at the segment's mid-point: mid-point gantry angle
//! along the rotation direction, mean jaw and leaf positions. Ions: every
//! control point with spots becomes one energy layer; spot σ in air is the
//! mean of the plan's FWHM x and y divided by 2√(2 ln 2).

use ferrodose_grid::{BeamGeometry, Grid, PatientPosition, Point3};
use ferrodose_pencil::{BeamSpots, Spot};
use ferrodose_photon::{Aperture, ControlPoint, PhotonMachine};
use ferrodose_physics::photon_spectrum::PhotonBeam as Beam;
use ferrodose_plan::{IonMachine, Modality};
use ferrodose_rtio::{CtSeries, DosimeterUnit, IonBeam, PhotonBeam, RtPlan, RtPlanBeams};
use std::path::Path;

/// FWHM / σ of a Gaussian.
const FWHM_PER_SIGMA: f64 = 2.354_820_045;

/// The modality of an RT (Ion) Plan's beams.
pub fn modality(plan: &RtPlan) -> Result<Modality, String> {
    match plan.beams {
        RtPlanBeams::Photon(_) => Ok(Modality::Photon),
        RtPlanBeams::Ion { z: 1, a: 1, .. } => Ok(Modality::Proton),
        RtPlanBeams::Ion { z: 6, a: 12, .. } => Ok(Modality::Carbon),
        RtPlanBeams::Ion { z, a, .. } => Err(format!(
            "ions of Z = {z}, A = {a}: ferrodose has base data for protons and carbon-12"
        )),
    }
}

/// Reads the RT (Ion) Plan at `path` and checks it against the plan file's
/// modality, the prescription's fraction count (if any) and the CT.
pub fn load(
    path: &Path,
    expected: Modality,
    prescribed_fractions: Option<u32>,
    ct: &CtSeries,
) -> Result<RtPlan, String> {
    let plan = RtPlan::read(path).map_err(|e| e.to_string())?;
    let found = modality(&plan)?;
    if found != expected {
        return Err(format!(
            "{}: holds a {found:?} plan but the plan file says modality = \"{}\"",
            path.display(),
            format!("{expected:?}").to_lowercase()
        ));
    }
    if let Some(n) = prescribed_fractions.filter(|n| *n != plan.fractions) {
        return Err(format!(
            "{}: {} fractions planned, the prescription says {n}",
            path.display(),
            plan.fractions
        ));
    }
    check_against_ct(
        &plan,
        &ct.info.frame_of_reference_uid,
        ct.info.patient_position,
        ct.hu.grid(),
    )
    .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(plan)
}

/// Refuses a plan in another frame of reference or patient position than
/// the CT, or with an isocentre outside the CT.
pub fn check_against_ct(
    plan: &RtPlan,
    ct_frame_uid: &str,
    ct_position: PatientPosition,
    ct_grid: &Grid,
) -> Result<(), String> {
    if let Some(uid) = &plan.frame_of_reference_uid {
        if uid != ct_frame_uid {
            return Err(format!(
                "the plan is in frame of reference {uid} but the CT is in {ct_frame_uid}: it belongs to another image set"
            ));
        }
    }
    if let Some(p) = plan.patient_position {
        if p != ct_position {
            return Err(format!(
                "the plan's patient position {} differs from the CT's {}",
                p.dicom_code(),
                ct_position.dicom_code()
            ));
        }
    }
    for (beam, iso) in plan.isocentres() {
        if ct_grid.voxel_of(&Point3::from(iso)).is_none() {
            return Err(format!(
                "beam {beam}: the isocentre ({:.1}, {:.1}, {:.1}) mm lies outside the CT",
                iso[0], iso[1], iso[2]
            ));
        }
    }
    Ok(())
}

/// Angle half-way from `a` to `b` (degrees, 0–360) along `direction`
/// (CW: increasing, CC: decreasing, otherwise the shorter way).
fn mid_angle(a: f64, b: f64, direction: &str) -> f64 {
    let delta = match direction {
        "CW" => (b - a).rem_euclid(360.0),
        "CC" => -(a - b).rem_euclid(360.0),
        _ => {
            let d = (b - a).rem_euclid(360.0);
            if d > 180.0 {
                d - 360.0
            } else {
                d
            }
        }
    };
    (a + 0.5 * delta).rem_euclid(360.0)
}

/// The beam quality of RT Plan beam `b`: its nominal energy, and FFF when its
/// primary fluence mode is NON_STANDARD with ID "FFF"; `None` where ferrodose
/// has no such beam (other modes are refused by [`photon_control_points`]).
pub fn beam_quality(b: &PhotonBeam) -> Option<Beam> {
    Beam::from_nominal(b.energy_mv, b.fluence_mode_id.as_deref() == Some("FFF"))
}

/// `machine` with the plan's MLC layout, and one control point per segment
/// with a non-zero meterset (MU per fraction).
pub fn photon_control_points(
    beams: &[PhotonBeam],
    mut machine: PhotonMachine,
    position: PatientPosition,
) -> Result<(PhotonMachine, Vec<ControlPoint>), String> {
    let mut layout: Option<&Vec<f64>> = None;
    for b in beams {
        let label = format!("beam {} ('{}')", b.number, b.name);
        if let Some(id) = b.fluence_mode_id.as_deref().filter(|id| *id != "FFF") {
            return Err(format!(
                "{label}: fluence mode {id}; ferrodose models flattened and FFF beams only"
            ));
        }
        if beam_quality(b) != Some(machine.beam) {
            let fff = b.fluence_mode_id.is_some();
            return Err(format!(
                "{label}: {} MV{}; the machine '{}' is {} MV{} (ferrodose has 6 MV and 10 MV FFF beams)",
                b.energy_mv,
                if fff { " FFF" } else { "" },
                machine.name,
                machine.beam.nominal_mv(),
                if machine.beam.flattening_filter_free() { " FFF" } else { "" },
            ));
        }
        if (b.sad_mm - machine.sad_mm).abs() > 0.5 {
            return Err(format!(
                "{label}: source-axis distance {} mm; the machine '{}' has {} mm",
                b.sad_mm, machine.name, machine.sad_mm
            ));
        }
        if let Some(bounds) = &b.leaf_boundaries_mm {
            if layout.is_some_and(|l| l != bounds) {
                return Err(format!(
                    "{label}: another MLC leaf layout than the first beam's"
                ));
            }
            layout = Some(bounds);
        }
    }
    if let Some(bounds) = layout {
        machine.leaf_boundaries_mm = bounds.clone();
    }
    let open = machine.max_jaw_mm;
    let mut points = Vec::new();
    for b in beams {
        let label = format!("beam {} ('{}')", b.number, b.name);
        for (i, pair) in b.control_points.windows(2).enumerate() {
            let [c0, c1] = [&pair[0], &pair[1]];
            let mu = c1.cumulative_mu - c0.cumulative_mu;
            if mu <= 0.0 {
                continue;
            }
            let mean = |a: f64, b: f64| 0.5 * (a + b);
            let jaws = |j0: Option<[f64; 2]>, j1: Option<[f64; 2]>| match (j0, j1) {
                (Some(a), Some(b)) => [mean(a[0], b[0]), mean(a[1], b[1])],
                _ => [-open, open],
            };
            let (jaw_x_mm, jaw_y_mm) = (
                jaws(c0.jaw_x_mm, c1.jaw_x_mm),
                jaws(c0.jaw_y_mm, c1.jaw_y_mm),
            );
            let aperture = match (&c0.leaves_mm, &c1.leaves_mm) {
                (Some(l0), Some(l1)) => Aperture {
                    jaw_x_mm,
                    jaw_y_mm,
                    leaves_mm: l0
                        .iter()
                        .zip(l1)
                        .map(|(a, b)| [mean(a[0], b[0]), mean(a[1], b[1])])
                        .collect(),
                },
                _ => Aperture::jaw_field(&machine, jaw_x_mm, jaw_y_mm),
            };
            aperture
                .check(&machine)
                .map_err(|e| format!("{label}, control points {i}–{}: {e}", i + 1))?;
            let iso = c0.isocentre_mm;
            points.push(ControlPoint {
                geometry: BeamGeometry {
                    gantry_deg: mid_angle(c0.gantry_deg, c1.gantry_deg, &c0.gantry_direction),
                    couch_deg: mid_angle(c0.couch_deg, c1.couch_deg, "NONE"),
                    collimator_deg: mid_angle(c0.collimator_deg, c1.collimator_deg, "NONE"),
                    isocentre_mm: Point3::new(
                        mean(iso[0], c1.isocentre_mm[0]),
                        mean(iso[1], c1.isocentre_mm[1]),
                        mean(iso[2], c1.isocentre_mm[2]),
                    ),
                    patient_position: position,
                },
                aperture,
                mu,
            });
        }
    }
    if points.is_empty() {
        return Err("no segment with a non-zero meterset".into());
    }
    Ok((machine, points))
}

/// One `BeamSpots` per energy layer, spot weights in particles per fraction;
/// energies must be within `machine`'s range, and layers without a spot size
/// get the machine's σ in air at their energy.
pub fn ion_beams(
    beams: &[IonBeam],
    machine: &IonMachine,
    position: PatientPosition,
    particles_per_mu: Option<f64>,
) -> Result<Vec<BeamSpots>, String> {
    let mut out = Vec::new();
    for b in beams {
        let label = format!("beam {} ('{}')", b.number, b.name);
        let particles = match (b.unit, particles_per_mu) {
            (DosimeterUnit::Np, _) => 1.0,
            (DosimeterUnit::Mu, Some(k)) => k,
            (DosimeterUnit::Mu, None) => {
                return Err(format!(
                    "{label}: the meterset is in MU and the generic nozzle has no MU calibration: give particles_per_mu (or --particles-per-mu), or export the plan in particles (NP)"
                ))
            }
        };
        let virtual_source_mm = b
            .virtual_source_mm
            .map(|v| 0.5 * (v[0] + v[1]))
            .or(machine.virtual_source_mm);
        for (li, layer) in b.layers.iter().enumerate() {
            let e = layer.energy_mev_u;
            if let Some(problem) = machine.refusal(e) {
                return Err(format!("{label}, layer {li}: {problem}"));
            }
            let sigma_air_mm = layer.spot_fwhm_mm.map_or_else(
                || machine.sigma_air_mm(e),
                |f| 0.5 * (f[0] + f[1]) / FWHM_PER_SIGMA,
            );
            out.push(BeamSpots {
                geometry: BeamGeometry {
                    gantry_deg: layer.gantry_deg,
                    couch_deg: layer.couch_deg,
                    collimator_deg: layer.collimator_deg,
                    isocentre_mm: Point3::from(layer.isocentre_mm),
                    patient_position: position,
                },
                sigma_air_mm,
                virtual_source_mm,
                spots: layer
                    .spots
                    .iter()
                    .map(|s| Spot {
                        energy_mev_u: e,
                        x_mm: s[0],
                        y_mm: s[1],
                        weight: s[2] * particles,
                    })
                    .collect(),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> RtPlan {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rtplan");
        RtPlan::read(&dir.join(name)).unwrap()
    }

    #[test]
    fn mid_angles_follow_the_rotation() {
        assert_eq!(mid_angle(350.0, 10.0, "CW"), 0.0);
        assert_eq!(mid_angle(10.0, 350.0, "CC"), 0.0);
        assert_eq!(mid_angle(10.0, 350.0, "CW"), 180.0);
        assert_eq!(mid_angle(80.0, 90.0, "NONE"), 85.0);
    }

    /// The pydicom-made RT Plan (tests/fixtures/rtplan/make_fixtures.py) gives
    /// the control points it describes: beam 1 one 100 MU segment of a
    /// 100 × 100 mm MLC field at gantry 0, beam 2 two 30 MU segments at 85°
    /// and 95°, on the plan's 40-pair MLC.
    #[test]
    fn photon_plan_becomes_its_segments() {
        let plan = fixture("RP_photon.dcm");
        assert_eq!(plan.fractions, 2);
        let RtPlanBeams::Photon(beams) = &plan.beams else {
            panic!("a photon plan")
        };
        let (machine, cps) =
            photon_control_points(beams, PhotonMachine::generic_6mv(), PatientPosition::Hfs)
                .unwrap();
        assert_eq!(machine.n_leaf_pairs(), 40);
        let summary: Vec<(f64, f64)> = cps.iter().map(|c| (c.geometry.gantry_deg, c.mu)).collect();
        assert_eq!(summary.len(), 3);
        for (got, want) in summary
            .iter()
            .zip([(0.0, 100.0), (85.0, 30.0), (95.0, 30.0)])
        {
            assert!(
                (got.0 - want.0).abs() < 1e-9 && (got.1 - want.1).abs() < 1e-9,
                "{got:?}"
            );
        }
        let a = &cps[0].aperture;
        assert_eq!(a.jaw_x_mm, [-50.0, 50.0]);
        assert_eq!(a.jaw_y_mm, [-50.0, 50.0]);
        // Pairs 15..25 span −50…50 mm and are open to ±50 mm; the rest closed.
        for (p, l) in a.leaves_mm.iter().enumerate() {
            let want = if (15..25).contains(&p) {
                [-50.0, 50.0]
            } else {
                [0.0, 0.0]
            };
            assert_eq!(*l, want, "pair {p}");
        }
    }

    fn generic(modality: Modality) -> IonMachine {
        IonMachine::generic(modality).unwrap()
    }

    #[test]
    fn ion_plan_becomes_layers_of_particles() {
        let plan = fixture("RP_proton.dcm");
        assert_eq!(modality(&plan).unwrap(), Modality::Proton);
        let RtPlanBeams::Ion { beams, .. } = &plan.beams else {
            panic!("an ion plan")
        };
        let layers = ion_beams(
            beams,
            &generic(Modality::Proton),
            PatientPosition::Hfs,
            None,
        )
        .unwrap();
        assert_eq!(layers.len(), 2);
        assert_eq!(layers[1].spots.len(), 9);
        assert!((layers[0].spots[0].weight - 1e9).abs() < 1.0);
        assert_eq!(layers[1].spots[0].energy_mev_u, 135.0);
        assert!((layers[0].sigma_air_mm - 4.0003).abs() < 1e-3);
        assert_eq!(layers[0].virtual_source_mm, Some(1900.0));
        let carbon = fixture("RP_carbon_mu.dcm");
        let RtPlanBeams::Ion { beams, .. } = &carbon.beams else {
            panic!("an ion plan")
        };
        let e = ion_beams(
            beams,
            &generic(Modality::Carbon),
            PatientPosition::Hfs,
            None,
        )
        .unwrap_err();
        assert!(e.contains("particles_per_mu"), "{e}");
        let b = ion_beams(
            beams,
            &generic(Modality::Carbon),
            PatientPosition::Hfs,
            Some(1e7),
        )
        .unwrap();
        assert!((b[0].spots[0].weight - 1e7).abs() < 1e-3);
    }
}
