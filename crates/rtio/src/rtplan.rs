//! RT Plan (photon) and RT Ion Plan import: beams, control points, jaw and
//! MLC positions, spots and metersets, for recalculation on a CT.
//!
//! Only what ferrodose can model is accepted: one fraction group; treatment
//! beams without wedges, compensators, boli, blocks, range shifters, lateral
//! spreading devices or range modulators; no table-top pitch or roll;
//! photon fluence mode STANDARD (flattened); modulated (spot) scanning with
//! one painting. Anything else is refused, naming the beam and the device.
//! Control-point values that DICOM lets a later control point omit (angles,
//! isocentre, jaw and leaf positions) are carried forward from the previous one.

use crate::dataset::{Attrs, DicomFile};
use crate::error::{Result, RtioError};
use dicom_core::Tag;
use dicom_dictionary_std::{tags, uids};
use ferrodose_grid::PatientPosition;
use std::path::{Path, PathBuf};

/// A plan read from an RT Plan or RT Ion Plan file.
#[derive(Debug, Clone)]
pub struct RtPlan {
    pub path: PathBuf,
    /// RT Plan Label (300A,0002).
    pub label: String,
    /// Frame of Reference UID (0020,0052), when the file gives one.
    pub frame_of_reference_uid: Option<String>,
    /// Patient Position of the plan's patient setups (all the same), if given.
    pub patient_position: Option<PatientPosition>,
    /// Number of Fractions Planned (300A,0078); metersets are per fraction.
    pub fractions: u32,
    pub beams: RtPlanBeams,
}

/// The treatment beams of a plan.
#[derive(Debug, Clone)]
pub enum RtPlanBeams {
    Photon(Vec<PhotonBeam>),
    /// Ions of atomic number `z` and mass number `a` (1, 1 for protons).
    Ion {
        z: u32,
        a: u32,
        beams: Vec<IonBeam>,
    },
}

/// One photon treatment beam.
#[derive(Debug, Clone)]
pub struct PhotonBeam {
    pub number: i64,
    pub name: String,
    /// Nominal beam energy (MV).
    pub energy_mv: f64,
    /// Source-axis distance (mm).
    pub sad_mm: f64,
    /// Fluence Mode ID of a NON_STANDARD primary fluence mode ("FFF", "SRS");
    /// `None` for a standard (flattened) beam.
    pub fluence_mode_id: Option<String>,
    /// MLC leaf-pair boundaries (mm, isocentre plane) when the beam has an MLCX.
    pub leaf_boundaries_mm: Option<Vec<f64>>,
    pub control_points: Vec<PhotonControlPoint>,
}

/// One photon control point, with omitted values carried forward.
#[derive(Debug, Clone, PartialEq)]
pub struct PhotonControlPoint {
    pub gantry_deg: f64,
    /// Gantry Rotation Direction towards the next control point: CW, CC or NONE.
    pub gantry_direction: String,
    pub collimator_deg: f64,
    pub couch_deg: f64,
    /// Isocenter Position (mm, patient coordinates).
    pub isocentre_mm: [f64; 3],
    /// X and Y jaws [1, 2] (mm); `None` when the beam has no such jaw.
    pub jaw_x_mm: Option<[f64; 2]>,
    pub jaw_y_mm: Option<[f64; 2]>,
    /// MLC leaf pairs [bank A, bank B] (mm), if the beam has an MLCX.
    pub leaves_mm: Option<Vec<[f64; 2]>>,
    /// Cumulative meterset (MU) delivered before this control point.
    pub cumulative_mu: f64,
}

/// Unit of an ion beam's meterset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DosimeterUnit {
    /// Monitor units: converting to particles needs the machine's calibration.
    Mu,
    /// Number of particles.
    Np,
}

/// One ion treatment beam.
#[derive(Debug, Clone)]
pub struct IonBeam {
    pub number: i64,
    pub name: String,
    pub unit: DosimeterUnit,
    /// Virtual Source-Axis Distances (x, y; mm), if given.
    pub virtual_source_mm: Option<[f64; 2]>,
    /// The energy layers with spots (control points with non-zero weights).
    pub layers: Vec<IonLayer>,
}

/// The spots of one ion control point.
#[derive(Debug, Clone)]
pub struct IonLayer {
    /// Nominal Beam Energy (MeV per nucleon; MeV for protons).
    pub energy_mev_u: f64,
    pub gantry_deg: f64,
    pub couch_deg: f64,
    pub collimator_deg: f64,
    pub isocentre_mm: [f64; 3],
    /// Scanning Spot Size (FWHM in air at the isocentre, x and y; mm), if given.
    pub spot_fwhm_mm: Option<[f64; 2]>,
    /// Spots: beam's-eye-view x, y (mm, isocentre plane) and meterset (in the
    /// beam's unit).
    pub spots: Vec<[f64; 3]>,
}

/// Device counts that ferrodose cannot model, with the attribute's name.
const UNSUPPORTED_DEVICES: [(Tag, &str); 7] = [
    (tags::NUMBER_OF_WEDGES, "wedges"),
    (tags::NUMBER_OF_COMPENSATORS, "compensators"),
    (tags::NUMBER_OF_BOLI, "boli"),
    (tags::NUMBER_OF_BLOCKS, "blocks"),
    (tags::NUMBER_OF_RANGE_SHIFTERS, "range shifters"),
    (
        tags::NUMBER_OF_LATERAL_SPREADING_DEVICES,
        "lateral spreading devices",
    ),
    (tags::NUMBER_OF_RANGE_MODULATORS, "range modulators"),
];

impl RtPlan {
    /// Reads an RT Plan or RT Ion Plan file.
    pub fn read(path: &Path) -> Result<Self> {
        let file = DicomFile::open(path)?;
        let ds = file.ds();
        let err = |problem: String| RtioError::Content {
            path: path.to_owned(),
            problem,
        };
        let class = file.sop_class_uid();
        let ion = match class.as_str() {
            uids::RT_PLAN_STORAGE => false,
            uids::RT_ION_PLAN_STORAGE => true,
            other => {
                return Err(err(format!(
                    "SOP class {other} is not an RT Plan ({}) or RT Ion Plan ({})",
                    uids::RT_PLAN_STORAGE,
                    uids::RT_ION_PLAN_STORAGE
                )))
            }
        };
        let groups: Vec<Attrs> = ds.items(tags::FRACTION_GROUP_SEQUENCE).collect();
        let [group] = groups.as_slice() else {
            return Err(err(format!(
                "{} fraction groups; ferrodose recalculates plans with exactly one",
                groups.len()
            )));
        };
        let fractions = group.int(
            tags::NUMBER_OF_FRACTIONS_PLANNED,
            "NumberOfFractionsPlanned",
        )?;
        if fractions < 1 {
            return Err(err(format!(
                "NumberOfFractionsPlanned {fractions} must be at least 1"
            )));
        }
        let mut metersets = Vec::new();
        for r in group.items(tags::REFERENCED_BEAM_SEQUENCE) {
            let number = r.int(tags::REFERENCED_BEAM_NUMBER, "ReferencedBeamNumber")?;
            let meterset = r.float(tags::BEAM_METERSET, "BeamMeterset")?;
            metersets.push((number, meterset));
        }
        let mut positions: Vec<String> = ds
            .items(tags::PATIENT_SETUP_SEQUENCE)
            .filter_map(|s| s.opt_str(tags::PATIENT_POSITION))
            .filter(|p| !p.is_empty())
            .collect();
        positions.dedup();
        let patient_position = match positions.as_slice() {
            [] => None,
            [p] => Some(PatientPosition::from_dicom(p).ok_or_else(|| {
                err(format!(
                    "patient position '{p}' is not supported (HFS, HFP, FFS, FFP)"
                ))
            })?),
            more => {
                return Err(err(format!(
                    "patient setups with different positions ({})",
                    more.join(", ")
                )))
            }
        };
        let beam_tag = if ion {
            tags::ION_BEAM_SEQUENCE
        } else {
            tags::BEAM_SEQUENCE
        };
        let mut photon = Vec::new();
        let mut ions = Vec::new();
        let mut particle: Option<(u32, u32)> = None;
        for b in ds.items(beam_tag) {
            let number = b.int(tags::BEAM_NUMBER, "BeamNumber")?;
            let name = b
                .opt_str(tags::BEAM_NAME)
                .unwrap_or_else(|| format!("{number}"));
            let label = format!("beam {number} ('{name}')");
            let berr = |problem: String| err(format!("{label}: {problem}"));
            let delivery = b
                .opt_str(tags::TREATMENT_DELIVERY_TYPE)
                .unwrap_or_else(|| "TREATMENT".into());
            if delivery != "TREATMENT" {
                // Setup and verification beams deliver no planned dose.
                continue;
            }
            for (tag, device) in UNSUPPORTED_DEVICES {
                let n = b
                    .obj
                    .get(tag)
                    .and_then(|e| e.to_int::<i64>().ok())
                    .unwrap_or(0);
                if n > 0 {
                    return Err(berr(format!(
                        "has {n} {device}; ferrodose does not model {device}: remove them or recalculate elsewhere"
                    )));
                }
            }
            let &(_, meterset) = metersets
                .iter()
                .find(|(n, _)| *n == number)
                .ok_or_else(|| {
                    berr("is not referenced by the fraction group, so it has no meterset".into())
                })?;
            if meterset.is_nan() || meterset < 0.0 {
                return Err(berr(format!(
                    "BeamMeterset {meterset} must be non-negative"
                )));
            }
            let final_weight = b.float(
                tags::FINAL_CUMULATIVE_METERSET_WEIGHT,
                "FinalCumulativeMetersetWeight",
            )?;
            if final_weight.is_nan() || final_weight <= 0.0 {
                return Err(berr(format!(
                    "FinalCumulativeMetersetWeight {final_weight} must be positive"
                )));
            }
            let per_weight = meterset / final_weight;
            let radiation = b.str(tags::RADIATION_TYPE, "RadiationType")?;
            if ion {
                let this = match radiation.as_str() {
                    "PROTON" => (1, 1),
                    "ION" => (
                        b.int(tags::RADIATION_ATOMIC_NUMBER, "RadiationAtomicNumber")? as u32,
                        b.int(tags::RADIATION_MASS_NUMBER, "RadiationMassNumber")? as u32,
                    ),
                    other => {
                        return Err(berr(format!(
                            "radiation type {other}: ferrodose computes PROTON and ION beams"
                        )))
                    }
                };
                if particle.is_some_and(|p| p != this) {
                    return Err(berr("another particle than the plan's other beams".into()));
                }
                particle = Some(this);
                ions.push(ion_beam(&b, number, name, per_weight, &berr)?);
            } else {
                if radiation != "PHOTON" {
                    return Err(berr(format!(
                        "radiation type {radiation}: the RT Plan engine computes PHOTON beams"
                    )));
                }
                photon.push(photon_beam(&b, number, name, per_weight, &berr)?);
            }
        }
        let beams = match particle {
            Some((z, a)) => RtPlanBeams::Ion { z, a, beams: ions },
            None if ion => return Err(err("no treatment beam in IonBeamSequence".into())),
            None if photon.is_empty() => {
                return Err(err("no treatment beam in BeamSequence".into()))
            }
            None => RtPlanBeams::Photon(photon),
        };
        Ok(Self {
            path: path.to_owned(),
            label: ds.opt_str(tags::RT_PLAN_LABEL).unwrap_or_default(),
            frame_of_reference_uid: ds
                .opt_str(tags::FRAME_OF_REFERENCE_UID)
                .filter(|u| !u.is_empty()),
            patient_position,
            fractions: fractions as u32,
            beams,
        })
    }
}

impl RtPlan {
    /// Every beam's isocentres (beam number, mm), each listed once per beam.
    pub fn isocentres(&self) -> Vec<(i64, [f64; 3])> {
        let mut out: Vec<(i64, [f64; 3])> = match &self.beams {
            RtPlanBeams::Photon(beams) => beams
                .iter()
                .flat_map(|b| b.control_points.iter().map(|c| (b.number, c.isocentre_mm)))
                .collect(),
            RtPlanBeams::Ion { beams, .. } => beams
                .iter()
                .flat_map(|b| b.layers.iter().map(|l| (b.number, l.isocentre_mm)))
                .collect(),
        };
        out.dedup();
        out
    }
}

/// Refuses a control point with table-top pitch or roll.
fn check_table_top(cp: &Attrs, index: usize, berr: &dyn Fn(String) -> RtioError) -> Result<()> {
    for (tag, name) in [
        (tags::TABLE_TOP_PITCH_ANGLE, "pitch"),
        (tags::TABLE_TOP_ROLL_ANGLE, "roll"),
    ] {
        let angle = cp
            .obj
            .get(tag)
            .and_then(|e| e.to_float64().ok())
            .unwrap_or(0.0);
        if angle != 0.0 {
            return Err(berr(format!(
                "control point {index}: table-top {name} {angle}° is not modelled"
            )));
        }
    }
    Ok(())
}

/// A number of a control point, or the value carried forward.
fn carried(cp: &Attrs, tag: Tag, name: &'static str, previous: Option<f64>) -> Result<f64> {
    match (cp.obj.get(tag), previous) {
        (Some(_), _) | (None, None) => cp.float(tag, name),
        (None, Some(p)) => Ok(p),
    }
}

fn photon_beam(
    b: &Attrs,
    number: i64,
    name: String,
    mu_per_weight: f64,
    berr: &dyn Fn(String) -> RtioError,
) -> Result<PhotonBeam> {
    let sad_mm = b.float(tags::SOURCE_AXIS_DISTANCE, "SourceAxisDistance")?;
    let mut fluence_mode_id = None;
    for mode in b.items(tags::PRIMARY_FLUENCE_MODE_SEQUENCE) {
        if mode.opt_str(tags::FLUENCE_MODE).as_deref() == Some("NON_STANDARD") {
            let id = mode.opt_str(tags::FLUENCE_MODE_ID).unwrap_or_default();
            fluence_mode_id = Some(if id.is_empty() {
                "NON_STANDARD".into()
            } else {
                id
            });
        }
    }
    let mut leaf_boundaries_mm = None;
    for d in b.items(tags::BEAM_LIMITING_DEVICE_SEQUENCE) {
        let kind = d.str(
            tags::RT_BEAM_LIMITING_DEVICE_TYPE,
            "RTBeamLimitingDeviceType",
        )?;
        match kind.as_str() {
            "X" | "Y" | "ASYMX" | "ASYMY" => {}
            "MLCX" => {
                let bounds =
                    d.all_floats(tags::LEAF_POSITION_BOUNDARIES, "LeafPositionBoundaries")?;
                if bounds.len() < 2 || bounds.windows(2).any(|w| w[1] <= w[0]) {
                    return Err(berr("LeafPositionBoundaries must increase".into()));
                }
                leaf_boundaries_mm = Some(bounds);
            }
            other => {
                return Err(berr(format!(
                    "beam-limiting device {other} is not modelled (X, Y, ASYMX, ASYMY and MLCX are)"
                )))
            }
        }
    }
    let n_pairs = leaf_boundaries_mm.as_ref().map(|b| b.len() - 1);
    let mut cps: Vec<PhotonControlPoint> = Vec::new();
    let mut energy_mv = None;
    for (index, cp) in b.items(tags::CONTROL_POINT_SEQUENCE).enumerate() {
        check_table_top(&cp, index, berr)?;
        let prev = cps.last();
        if let Some(e) = cp.obj.get(tags::NOMINAL_BEAM_ENERGY) {
            let e = e
                .to_float64()
                .map_err(|e| berr(format!("NominalBeamEnergy: {e}")))?;
            if energy_mv.is_some_and(|x| x != e) {
                return Err(berr(
                    "the nominal energy changes between control points".into(),
                ));
            }
            energy_mv = Some(e);
        }
        let mut jaw_x_mm = prev.and_then(|p| p.jaw_x_mm);
        let mut jaw_y_mm = prev.and_then(|p| p.jaw_y_mm);
        let mut leaves_mm = prev.and_then(|p| p.leaves_mm.clone());
        for d in cp.items(tags::BEAM_LIMITING_DEVICE_POSITION_SEQUENCE) {
            let kind = d.str(
                tags::RT_BEAM_LIMITING_DEVICE_TYPE,
                "RTBeamLimitingDeviceType",
            )?;
            let v = d.all_floats(tags::LEAF_JAW_POSITIONS, "LeafJawPositions")?;
            let pair = || -> Result<[f64; 2]> {
                match v.as_slice() {
                    [a, b] => Ok([*a, *b]),
                    _ => Err(berr(format!(
                        "control point {index}: {kind} has {} positions, expected 2",
                        v.len()
                    ))),
                }
            };
            match kind.as_str() {
                "X" | "ASYMX" => jaw_x_mm = Some(pair()?),
                "Y" | "ASYMY" => jaw_y_mm = Some(pair()?),
                "MLCX" => {
                    let n = n_pairs.ok_or_else(|| {
                        berr("MLCX positions without an MLCX in BeamLimitingDeviceSequence".into())
                    })?;
                    if v.len() != 2 * n {
                        return Err(berr(format!(
                            "control point {index}: {} MLCX positions for {n} leaf pairs",
                            v.len()
                        )));
                    }
                    leaves_mm = Some((0..n).map(|p| [v[p], v[n + p]]).collect());
                }
                other => {
                    return Err(berr(format!(
                        "control point {index}: beam-limiting device {other} is not modelled"
                    )))
                }
            }
        }
        let weight = cp.float(tags::CUMULATIVE_METERSET_WEIGHT, "CumulativeMetersetWeight")?;
        let iso = match (cp.obj.get(tags::ISOCENTER_POSITION), prev) {
            (None, Some(p)) => p.isocentre_mm,
            _ => {
                let v = cp.floats(tags::ISOCENTER_POSITION, "IsocenterPosition", 3)?;
                [v[0], v[1], v[2]]
            }
        };
        cps.push(PhotonControlPoint {
            gantry_deg: carried(
                &cp,
                tags::GANTRY_ANGLE,
                "GantryAngle",
                prev.map(|p| p.gantry_deg),
            )?,
            gantry_direction: cp
                .opt_str(tags::GANTRY_ROTATION_DIRECTION)
                .or_else(|| prev.map(|p| p.gantry_direction.clone()))
                .unwrap_or_else(|| "NONE".into()),
            collimator_deg: carried(
                &cp,
                tags::BEAM_LIMITING_DEVICE_ANGLE,
                "BeamLimitingDeviceAngle",
                prev.map(|p| p.collimator_deg),
            )?,
            couch_deg: carried(
                &cp,
                tags::PATIENT_SUPPORT_ANGLE,
                "PatientSupportAngle",
                prev.map(|p| p.couch_deg),
            )?,
            isocentre_mm: iso,
            jaw_x_mm,
            jaw_y_mm,
            leaves_mm,
            cumulative_mu: weight * mu_per_weight,
        });
    }
    check_cumulative(cps.iter().map(|c| c.cumulative_mu), berr)?;
    if cps.len() < 2 {
        return Err(berr(format!(
            "{} control points; a beam needs at least 2",
            cps.len()
        )));
    }
    Ok(PhotonBeam {
        number,
        name,
        energy_mv: energy_mv.ok_or_else(|| berr("no NominalBeamEnergy".into()))?,
        sad_mm,
        fluence_mode_id,
        leaf_boundaries_mm,
        control_points: cps,
    })
}

/// Refuses cumulative metersets that decrease.
fn check_cumulative(
    values: impl Iterator<Item = f64>,
    berr: &dyn Fn(String) -> RtioError,
) -> Result<()> {
    let mut last = 0.0f64;
    for (index, v) in values.enumerate() {
        if v.is_nan() || v < last - 1e-9 {
            return Err(berr(format!(
                "control point {index}: CumulativeMetersetWeight decreases"
            )));
        }
        last = v;
    }
    Ok(())
}

fn ion_beam(
    b: &Attrs,
    number: i64,
    name: String,
    meterset_per_weight: f64,
    berr: &dyn Fn(String) -> RtioError,
) -> Result<IonBeam> {
    let scan = b.str(tags::SCAN_MODE, "ScanMode")?;
    if scan != "MODULATED" {
        return Err(berr(format!(
            "scan mode {scan}: ferrodose computes spot-scanned (MODULATED) beams"
        )));
    }
    let unit = match b.opt_str(tags::PRIMARY_DOSIMETER_UNIT).as_deref() {
        Some("NP") => DosimeterUnit::Np,
        Some("MU") | None => DosimeterUnit::Mu,
        Some(other) => {
            return Err(berr(format!(
                "primary dosimeter unit {other} (MU or NP expected)"
            )))
        }
    };
    let virtual_source_mm = match b.obj.get(tags::VIRTUAL_SOURCE_AXIS_DISTANCES) {
        Some(_) => {
            let v = b.floats(
                tags::VIRTUAL_SOURCE_AXIS_DISTANCES,
                "VirtualSourceAxisDistances",
                2,
            )?;
            Some([v[0], v[1]])
        }
        None => None,
    };
    let mut layers = Vec::new();
    let mut last: Option<IonLayer> = None;
    let mut weights = Vec::new();
    for (index, cp) in b.items(tags::ION_CONTROL_POINT_SEQUENCE).enumerate() {
        check_table_top(&cp, index, berr)?;
        let paintings = cp
            .obj
            .get(tags::NUMBER_OF_PAINTINGS)
            .and_then(|e| e.to_int::<i64>().ok())
            .unwrap_or(1);
        if paintings > 1 {
            return Err(berr(format!(
                "control point {index}: {paintings} paintings; ferrodose reads single-painting layers"
            )));
        }
        let p = last.as_ref();
        let iso = match (cp.obj.get(tags::ISOCENTER_POSITION), p) {
            (None, Some(p)) => p.isocentre_mm,
            _ => {
                let v = cp.floats(tags::ISOCENTER_POSITION, "IsocenterPosition", 3)?;
                [v[0], v[1], v[2]]
            }
        };
        let spot_fwhm_mm = match cp.obj.get(tags::SCANNING_SPOT_SIZE) {
            Some(_) => {
                let v = cp.floats(tags::SCANNING_SPOT_SIZE, "ScanningSpotSize", 2)?;
                Some([v[0], v[1]])
            }
            None => p.and_then(|p| p.spot_fwhm_mm),
        };
        let mut layer = IonLayer {
            energy_mev_u: carried(
                &cp,
                tags::NOMINAL_BEAM_ENERGY,
                "NominalBeamEnergy",
                p.map(|p| p.energy_mev_u),
            )?,
            gantry_deg: carried(
                &cp,
                tags::GANTRY_ANGLE,
                "GantryAngle",
                p.map(|p| p.gantry_deg),
            )?,
            couch_deg: carried(
                &cp,
                tags::PATIENT_SUPPORT_ANGLE,
                "PatientSupportAngle",
                p.map(|p| p.couch_deg),
            )?,
            collimator_deg: cp
                .obj
                .get(tags::BEAM_LIMITING_DEVICE_ANGLE)
                .map(|_| cp.float(tags::BEAM_LIMITING_DEVICE_ANGLE, "BeamLimitingDeviceAngle"))
                .transpose()?
                .or(p.map(|p| p.collimator_deg))
                .unwrap_or(0.0),
            isocentre_mm: iso,
            spot_fwhm_mm,
            spots: Vec::new(),
        };
        weights.push(cp.float(tags::CUMULATIVE_METERSET_WEIGHT, "CumulativeMetersetWeight")?);
        if cp.obj.get(tags::SCAN_SPOT_POSITION_MAP).is_some() {
            let n = cp.int(
                tags::NUMBER_OF_SCAN_SPOT_POSITIONS,
                "NumberOfScanSpotPositions",
            )?;
            let n = usize::try_from(n)
                .map_err(|_| berr(format!("control point {index}: {n} spots")))?;
            let map = cp.floats(tags::SCAN_SPOT_POSITION_MAP, "ScanSpotPositionMap", 2 * n)?;
            let w = cp.floats(
                tags::SCAN_SPOT_METERSET_WEIGHTS,
                "ScanSpotMetersetWeights",
                n,
            )?;
            if let Some(bad) = w.iter().find(|w| **w < 0.0) {
                return Err(berr(format!(
                    "control point {index}: negative spot meterset weight {bad}"
                )));
            }
            layer.spots = (0..n)
                .filter(|s| w[*s] > 0.0)
                .map(|s| [map[2 * s], map[2 * s + 1], w[s] * meterset_per_weight])
                .collect();
        }
        if !layer.spots.is_empty() {
            layers.push(layer.clone());
        }
        last = Some(layer);
    }
    check_cumulative(weights.into_iter(), berr)?;
    if layers.is_empty() {
        return Err(berr("no spot with a non-zero meterset weight".into()));
    }
    Ok(IonBeam {
        number,
        name,
        unit,
        virtual_source_mm,
        layers,
    })
}
