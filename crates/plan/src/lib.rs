//! The plan file (TOML): the CT, the prescription, dose settings and one or
//! more plans of beams and spots. Format reference: `docs/plan-format.md`.
//!
//! Parsing refuses unknown keys (naming key and line) and checks values that
//! need no CT: positive doses and grid spacing, finite angles and weights,
//! energies inside the machine's range. What needs the CT (structure names, a
//! plan that misses the CT) is checked by the runner.

mod machine;

pub use machine::IonMachine;
use serde::Deserialize;
use std::path::PathBuf;

/// Why a plan file is refused.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{source_name}: {message}")]
    Parse {
        source_name: String,
        message: String,
    },
    #[error("{source_name}: {key}: {problem}")]
    Value {
        source_name: String,
        key: String,
        problem: String,
    },
}

/// A whole plan file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanFile {
    pub ct: CtSource,
    pub prescription: Option<Prescription>,
    #[serde(default)]
    pub dose: DoseSettings,
    /// α/β (Gy) per structure name for BED and EQD2; structures not listed get
    /// 10 Gy (targets) or 3 Gy (everything else).
    #[serde(default)]
    pub alpha_beta_gy: std::collections::BTreeMap<String, f64>,
    /// Organ-at-risk objectives for the spot-weight optimiser (all plans).
    #[serde(rename = "objective", default)]
    pub objectives: Vec<ObjectiveDef>,
    #[serde(rename = "plan")]
    pub plans: Vec<Plan>,
}

/// What an organ-at-risk objective penalises.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ObjectiveKind {
    /// Dose above `dose_gy` in any voxel.
    Max,
    /// Mean dose above `dose_gy`.
    Mean,
    /// More than `volume_pct` % of the structure above `dose_gy`.
    Dvh,
}

/// An objective on a structure, in the plan's dose (Gy(RBE) for ions, total
/// over all fractions).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ObjectiveDef {
    pub structure: String,
    pub kind: ObjectiveKind,
    pub dose_gy: f64,
    /// For `dvh`: the largest volume (%) allowed above `dose_gy`.
    pub volume_pct: Option<f64>,
    /// Relative importance (the target's squared deviation has weight 1).
    #[serde(default = "default_objective_weight")]
    pub weight: f64,
}

fn default_objective_weight() -> f64 {
    1.0
}

/// Where the CT comes from: exactly one of a built-in phantom or a DICOM directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CtSource {
    pub phantom: Option<String>,
    pub dicom: Option<PathBuf>,
}

/// Prescription to a target structure.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prescription {
    /// Name of the target structure (for example "PTV").
    pub target: String,
    /// Total prescribed dose (Gy, or Gy(RBE) for ions).
    pub dose_gy: f64,
    pub fractions: u32,
}

/// Device preference.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    #[default]
    Auto,
    Gpu,
    Cpu,
}

/// Dose calculation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseSettings {
    /// Dose grid spacing (mm), the same along all axes.
    #[serde(default = "default_grid_mm")]
    pub grid_mm: f64,
    #[serde(default)]
    pub device: Device,
    /// Iterations of the spot-weight optimiser (plans with automatic spots).
    #[serde(default = "default_iterations")]
    pub iterations: usize,
    /// Percentage of each depth's laterally integrated ion dose kept inside
    /// the lateral cut-off of every spot (core and nuclear tail together).
    #[serde(default = "default_ion_lateral_cutoff_pct")]
    pub ion_lateral_cutoff_pct: f64,
    /// Spacing (mm) of the lattice on which the spot-weight optimiser's
    /// influence matrix holds the ions' lateral tail (protons' nuclear halo,
    /// carbon fragments), interpolated onto the dose grid; 0 evaluates it on
    /// the dose grid.
    #[serde(default = "default_ion_tail_lattice_mm")]
    pub ion_tail_lattice_mm: f64,
}

/// The default lattice of the ions' lateral tail in the influence matrix (mm).
fn default_ion_tail_lattice_mm() -> f64 {
    10.0
}

/// The ion engine's default lateral cut-off level (matRad's, 99.5 %).
fn default_ion_lateral_cutoff_pct() -> f64 {
    99.5
}

fn default_grid_mm() -> f64 {
    3.0
}

fn default_iterations() -> usize {
    300
}

impl Default for DoseSettings {
    fn default() -> Self {
        Self {
            grid_mm: default_grid_mm(),
            device: Device::Auto,
            iterations: default_iterations(),
            ion_lateral_cutoff_pct: default_ion_lateral_cutoff_pct(),
            ion_tail_lattice_mm: default_ion_tail_lattice_mm(),
        }
    }
}

/// Treatment modality.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Proton,
    Carbon,
    Photon,
}

/// One plan: a modality and its beams.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Plan name; also the output folder name.
    pub name: String,
    pub modality: Modality,
    #[serde(rename = "beam", default)]
    pub beams: Vec<Beam>,
    /// Photon VMAT arcs.
    #[serde(rename = "arc", default)]
    pub arcs: Vec<ArcDef>,
    /// A DICOM RT Plan (photon) or RT Ion Plan to recalculate instead of
    /// beams and arcs (path relative to the plan file).
    pub rtplan: Option<PathBuf>,
    /// Particles per MU of the nozzle, for an RT Ion Plan whose meterset is in
    /// MU (one in particles, NP, needs none).
    pub particles_per_mu: Option<f64>,
    /// Photon fluence optimisation (beamlets, then leaf sequencing) instead of
    /// optimising the MU of conformal apertures.
    pub fluence: Option<FluenceDef>,
    /// The machine file (path relative to the plan file): an ion nozzle
    /// (`IonMachine`) or a photon linac (`ferrodose_photon::PhotonMachine`);
    /// absent, the built-in generic machine of the modality.
    pub machine: Option<PathBuf>,
}

/// Beamlet fluence optimisation of a photon plan.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FluenceDef {
    /// Beamlet width along the leaves (mm, isocentre plane); beamlets are one
    /// leaf pair high.
    #[serde(default = "default_beamlet_mm")]
    pub beamlet_mm: f64,
    /// Intensity levels of leaf sequencing per beam or arc control point.
    #[serde(default = "default_levels")]
    pub levels: u32,
}

fn default_beamlet_mm() -> f64 {
    5.0
}

fn default_levels() -> u32 {
    10
}

/// A photon arc: control points every `spacing_deg` from `start_deg` to
/// `stop_deg` (clockwise when stop > start), apertures conformal to the
/// target plus `margin_mm`, meterset weights optimised.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArcDef {
    pub start_deg: f64,
    pub stop_deg: f64,
    #[serde(default = "default_arc_spacing")]
    pub spacing_deg: f64,
    #[serde(default)]
    pub couch_deg: f64,
    #[serde(default)]
    pub collimator_deg: f64,
    pub isocentre: Isocentre,
    /// Aperture margin around the target's projection (mm, isocentre plane).
    #[serde(default = "default_margin")]
    pub margin_mm: f64,
}

fn default_arc_spacing() -> f64 {
    4.0
}

fn default_margin() -> f64 {
    3.0
}

/// The isocentre: a point (mm, patient coordinates) or "target" (the centroid
/// of the prescription's target structure).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum Isocentre {
    Point([f64; 3]),
    Named(String),
}

/// One beam.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Beam {
    pub gantry_deg: f64,
    #[serde(default)]
    pub couch_deg: f64,
    #[serde(default)]
    pub collimator_deg: f64,
    pub isocentre: Isocentre,
    /// Spot σ in air at the patient (mm) for every spot of the beam; absent,
    /// the machine's σ at each spot's energy.
    pub sigma_air_mm: Option<f64>,
    /// Virtual source-to-axis distance (mm); spot rays diverge from it.
    /// Absent: the machine's (parallel rays when the machine has none).
    pub virtual_source_mm: Option<f64>,
    #[serde(rename = "spot", default)]
    pub spots: Vec<SpotDef>,
}

/// One spot, listed explicitly.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpotDef {
    /// Kinetic energy: MeV for protons, MeV/u for carbon.
    pub energy: f64,
    /// Beam's-eye-view position at the isocentre plane (mm).
    pub x_mm: f64,
    pub y_mm: f64,
    /// Number of particles.
    pub weight: f64,
}

impl PlanFile {
    /// Checks plan `index` against the machine that delivers it: the
    /// particle, and every listed spot's energy within the machine's range.
    pub fn check_machine(
        &self,
        index: usize,
        machine: &IonMachine,
        source_name: &str,
    ) -> Result<(), PlanError> {
        let plan = &self.plans[index];
        let bad = |key: String, problem: String| PlanError::Value {
            source_name: source_name.to_owned(),
            key: format!("plan[{index}] '{}'{key}", plan.name),
            problem,
        };
        if machine.particle != plan.modality {
            return Err(bad(
                ".machine".into(),
                format!(
                    "'{}' delivers {:?}, the plan is {:?}",
                    machine.name, machine.particle, plan.modality
                ),
            ));
        }
        for (bi, beam) in plan.beams.iter().enumerate() {
            for (si, s) in beam.spots.iter().enumerate() {
                if let Some(problem) = machine.refusal(s.energy) {
                    return Err(bad(format!(".beam[{bi}].spot[{si}].energy"), problem));
                }
            }
        }
        Ok(())
    }

    /// Photon plans: no listed spots, a prescription target (apertures conform
    /// to it), sensible arc spacings and margins.
    fn check_photon_plan(
        &self,
        plan: &Plan,
        key: &dyn Fn(&str) -> String,
    ) -> Result<(), (String, String)> {
        if plan.beams.iter().any(|b| !b.spots.is_empty()) {
            return Err((key(".beam.spot"), "photon beams take no spots".into()));
        }

        if self.prescription.is_none() {
            return Err((
                key(""),
                "photon apertures conform to the prescription's target: add [prescription]".into(),
            ));
        }
        if let Some(f) = &plan.fluence {
            if !(2.0..=20.0).contains(&f.beamlet_mm) {
                return Err((
                    key(".fluence.beamlet_mm"),
                    format!("{} mm is outside 2–20 mm", f.beamlet_mm),
                ));
            }
            if !(1..=50).contains(&f.levels) {
                return Err((
                    key(".fluence.levels"),
                    format!("{} is outside 1–50", f.levels),
                ));
            }
        }
        for (a, arc) in plan.arcs.iter().enumerate() {
            let span = arc.stop_deg - arc.start_deg;
            if !(span != 0.0 && span.abs() <= 720.0) {
                return Err((
                    key(&format!(".arc[{a}]")),
                    format!("{}° → {}° must span 0–720°", arc.start_deg, arc.stop_deg),
                ));
            }
            if !(0.5..=30.0).contains(&arc.spacing_deg) {
                return Err((
                    key(&format!(".arc[{a}].spacing_deg")),
                    format!("{}° is outside 0.5–30°", arc.spacing_deg),
                ));
            }
            if !(0.0..=30.0).contains(&arc.margin_mm) {
                return Err((
                    key(&format!(".arc[{a}].margin_mm")),
                    format!("{} mm is outside 0–30 mm", arc.margin_mm),
                ));
            }
        }
        Ok(())
    }

    /// Parses and checks a plan file; `source_name` (the file name) is named in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PlanError> {
        let file: PlanFile = toml::from_str(text).map_err(|e| PlanError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        file.check(source_name)?;
        Ok(file)
    }

    /// Checks the values (as `parse` does); call again after changing fields.
    pub fn check(&self, source_name: &str) -> Result<(), PlanError> {
        let bad = |key: String, problem: String| PlanError::Value {
            source_name: source_name.to_owned(),
            key,
            problem,
        };
        match (&self.ct.phantom, &self.ct.dicom) {
            (Some(_), None) | (None, Some(_)) => {}
            _ => {
                return Err(bad(
                    "ct".into(),
                    "give exactly one of phantom = \"NAME\" or dicom = \"DIR\"".into(),
                ))
            }
        }
        if let Some(p) = &self.prescription {
            if !(p.dose_gy > 0.0 && p.dose_gy.is_finite()) {
                return Err(bad(
                    "prescription.dose_gy".into(),
                    format!("{} must be positive", p.dose_gy),
                ));
            }
            if p.fractions == 0 {
                return Err(bad(
                    "prescription.fractions".into(),
                    "must be at least 1".into(),
                ));
            }
        }
        for (name, ab) in &self.alpha_beta_gy {
            if !(*ab > 0.0 && ab.is_finite()) {
                return Err(bad(
                    format!("alpha_beta_gy.{name}"),
                    format!("{ab} Gy must be positive"),
                ));
            }
        }
        for (k, o) in self.objectives.iter().enumerate() {
            let key = |f: &str| format!("objective[{k}] '{}'.{f}", o.structure);
            if !(o.dose_gy > 0.0 && o.dose_gy.is_finite()) {
                return Err(bad(
                    key("dose_gy"),
                    format!("{} must be positive", o.dose_gy),
                ));
            }
            if !(o.weight > 0.0 && o.weight.is_finite()) {
                return Err(bad(key("weight"), format!("{} must be positive", o.weight)));
            }
            match (o.kind, o.volume_pct) {
                (ObjectiveKind::Dvh, Some(v)) if v > 0.0 && v < 100.0 => {}
                (ObjectiveKind::Dvh, v) => {
                    return Err(bad(
                        key("volume_pct"),
                        format!("a dvh objective needs volume_pct within 0–100 % (got {v:?})"),
                    ))
                }
                (_, Some(_)) => {
                    return Err(bad(
                        key("volume_pct"),
                        "only dvh objectives take a volume".into(),
                    ))
                }
                _ => {}
            }
        }
        if !(self.dose.grid_mm >= 0.5 && self.dose.grid_mm <= 10.0) {
            return Err(bad(
                "dose.grid_mm".into(),
                format!("{} mm is outside 0.5–10 mm", self.dose.grid_mm),
            ));
        }
        if !(90.0..=99.9999).contains(&self.dose.ion_lateral_cutoff_pct) {
            return Err(bad(
                "dose.ion_lateral_cutoff_pct".into(),
                format!(
                    "{} % is outside 90–99.9999 %",
                    self.dose.ion_lateral_cutoff_pct
                ),
            ));
        }
        if !(0.0..=30.0).contains(&self.dose.ion_tail_lattice_mm) {
            return Err(bad(
                "dose.ion_tail_lattice_mm".into(),
                format!(
                    "{} mm is outside 0–30 mm (0: the tail on the dose grid)",
                    self.dose.ion_tail_lattice_mm
                ),
            ));
        }
        if !(1..=5000).contains(&self.dose.iterations) {
            return Err(bad(
                "dose.iterations".into(),
                format!("{} is outside 1–5000", self.dose.iterations),
            ));
        }
        if self.plans.is_empty() {
            return Err(bad("plan".into(), "the file defines no [[plan]]".into()));
        }
        let mut names = std::collections::HashSet::new();
        for (pi, plan) in self.plans.iter().enumerate() {
            let key = |rest: &str| format!("plan[{pi}] '{}'{rest}", plan.name);
            if plan.name.is_empty()
                || !plan
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            {
                return Err(bad(
                    key(".name"),
                    "use letters, digits, '_' and '-' (it names the output folder)".into(),
                ));
            }
            if !names.insert(plan.name.as_str()) {
                return Err(bad(key(".name"), "used by two plans".into()));
            }
            if let Some(k) = plan.particles_per_mu {
                if plan.rtplan.is_none() || !(k > 0.0 && k.is_finite()) {
                    return Err(bad(
                        key(".particles_per_mu"),
                        format!("{k}: a positive number, only with rtplan"),
                    ));
                }
            }
            if plan.rtplan.is_some() {
                if !(plan.beams.is_empty() && plan.arcs.is_empty() && plan.fluence.is_none()) {
                    return Err(bad(
                        key(".rtplan"),
                        "a plan takes either rtplan or its own beams, arcs and fluence, not both"
                            .into(),
                    ));
                }
                continue;
            }
            if plan.beams.is_empty() && plan.arcs.is_empty() {
                return Err(bad(
                    key(".beam"),
                    "the plan has no [[plan.beam]] (nor, for photons, [[plan.arc]])".into(),
                ));
            }
            if plan.modality == Modality::Photon {
                self.check_photon_plan(plan, &key)
                    .map_err(|(k, p)| bad(k, p))?;
            } else if !plan.arcs.is_empty() {
                return Err(bad(key(".arc"), "arcs are for photon plans".into()));
            } else if plan.fluence.is_some() {
                return Err(bad(
                    key(".fluence"),
                    "fluence optimisation is for photon plans".into(),
                ));
            }
            let listed = plan.beams.iter().filter(|b| !b.spots.is_empty()).count();
            if listed != 0 && listed != plan.beams.len() {
                return Err(bad(
                    key(".beam"),
                    "list spots for every beam, or for none (automatic placement and optimisation)"
                        .into(),
                ));
            }
            if listed == 0 && self.prescription.is_none() {
                return Err(bad(
                    key(".beam"),
                    "automatic spots need a [prescription] with a target".into(),
                ));
            }
            for (bi, beam) in plan.beams.iter().enumerate() {
                let bkey = |rest: &str| key(&format!(".beam[{bi}]{rest}"));
                for (name, v) in [
                    ("gantry_deg", beam.gantry_deg),
                    ("couch_deg", beam.couch_deg),
                    ("collimator_deg", beam.collimator_deg),
                ] {
                    if !v.is_finite() {
                        return Err(bad(
                            bkey(&format!(".{name}")),
                            format!("{v} is not a finite angle"),
                        ));
                    }
                }
                if let Isocentre::Named(n) = &beam.isocentre {
                    if n != "target" {
                        return Err(bad(
                            bkey(".isocentre"),
                            format!("'{n}': give [x, y, z] in mm or \"target\""),
                        ));
                    }
                    if self.prescription.is_none() {
                        return Err(bad(
                            bkey(".isocentre"),
                            "\"target\" needs a [prescription] with a target".into(),
                        ));
                    }
                }
                if let Some(sigma) = beam.sigma_air_mm {
                    if !(sigma > 0.0 && sigma < 30.0) {
                        return Err(bad(
                            bkey(".sigma_air_mm"),
                            format!("{sigma} mm is outside 0–30 mm"),
                        ));
                    }
                }
                if let Some(sad) = beam.virtual_source_mm {
                    if !(sad >= 500.0 && sad.is_finite()) {
                        return Err(bad(
                            bkey(".virtual_source_mm"),
                            format!("{sad} mm: a virtual source closer than 500 mm to the isocentre is not a scanning nozzle"),
                        ));
                    }
                }
                for (si, s) in beam.spots.iter().enumerate() {
                    let skey = bkey(&format!(".spot[{si}]"));
                    if !(s.weight >= 0.0 && s.weight.is_finite()) {
                        return Err(bad(
                            format!("{skey}.weight"),
                            format!("{} must be finite and non-negative", s.weight),
                        ));
                    }
                    if !(s.x_mm.is_finite() && s.y_mm.is_finite()) {
                        return Err(bad(skey, "x_mm and y_mm must be finite".into()));
                    }
                }
            }
            // A machine file is checked when the runner loads it.
            if plan.machine.is_none() {
                if let Some(generic) = IonMachine::generic(plan.modality) {
                    self.check_machine(pi, &generic, source_name)?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[ct]
phantom = "water"

[prescription]
target = "PTV"
dose_gy = 50.0
fractions = 5

[dose]
grid_mm = 2.5
device = "cpu"

[[plan]]
name = "proton_1"
modality = "proton"

[[plan.beam]]
gantry_deg = 0
isocentre = [0.0, 0.0, 0.0]

[[plan.beam.spot]]
energy = 150.0
x_mm = 0.0
y_mm = 0.0
weight = 1e9
"#;

    #[test]
    fn parses_a_good_file() {
        let f = PlanFile::parse(GOOD, "good.toml").unwrap();
        assert_eq!(f.dose.device, Device::Cpu);
        assert_eq!(f.plans[0].beams[0].spots.len(), 1);
        assert_eq!(f.plans[0].beams[0].isocentre, Isocentre::Point([0.0; 3]));
        assert_eq!(f.plans[0].beams[0].sigma_air_mm, None);
    }

    #[test]
    fn errors_name_the_key() {
        let e = |text: &str| PlanFile::parse(text, "p.toml").unwrap_err().to_string();
        let unknown = e(&GOOD.replace("gantry_deg = 0", "gantry_deg = 0\ngantry_speed = 3"));
        assert!(
            unknown.contains("p.toml") && unknown.contains("gantry_speed"),
            "{unknown}"
        );
        let energy = e(&GOOD.replace("energy = 150.0", "energy = 250.0"));
        assert!(
            energy.contains("plan[0] 'proton_1'.beam[0].spot[0].energy")
                && energy.contains("70–230"),
            "{energy}"
        );
        let both = e(&GOOD.replace("phantom = \"water\"", "phantom = \"water\"\ndicom = \"ct\""));
        assert!(both.contains("ct: give exactly one"), "{both}");
        let iso = e(&GOOD.replace("isocentre = [0.0, 0.0, 0.0]", "isocentre = \"tumour\""));
        assert!(iso.contains("isocentre") && iso.contains("tumour"), "{iso}");
        let sad = e(&GOOD.replace(
            "isocentre = [0.0, 0.0, 0.0]",
            "isocentre = [0.0, 0.0, 0.0]\nvirtual_source_mm = 100.0",
        ));
        assert!(sad.contains("beam[0].virtual_source_mm"), "{sad}");
        let grid = e(&GOOD.replace("grid_mm = 2.5", "grid_mm = 0.0"));
        assert!(grid.contains("dose.grid_mm"), "{grid}");
        let cut = e(&GOOD.replace(
            "grid_mm = 2.5",
            "grid_mm = 2.5\nion_lateral_cutoff_pct = 100",
        ));
        assert!(cut.contains("dose.ion_lateral_cutoff_pct"), "{cut}");
        let lattice = e(&GOOD.replace("grid_mm = 2.5", "grid_mm = 2.5\nion_tail_lattice_mm = 40"));
        assert!(lattice.contains("dose.ion_tail_lattice_mm"), "{lattice}");
        let name = e(&GOOD.replace("name = \"proton_1\"", "name = \"../x\""));
        assert!(name.contains(".name"), "{name}");
        let ab = e(&GOOD.replace("[dose]", "[alpha_beta_gy]\nLiver = -2.5\n\n[dose]"));
        assert!(ab.contains("alpha_beta_gy.Liver"), "{ab}");
        let f = PlanFile::parse(
            &GOOD.replace("[dose]", "[alpha_beta_gy]\nLiver = 2.5\n\n[dose]"),
            "p.toml",
        )
        .unwrap();
        assert_eq!(f.alpha_beta_gy["Liver"], 2.5);
        let obj = |body: &str| GOOD.replace("[dose]", &format!("[[objective]]\n{body}\n\n[dose]"));
        let f = PlanFile::parse(
            &obj("structure = \"Liver\"\nkind = \"dvh\"\ndose_gy = 30\nvolume_pct = 10"),
            "p.toml",
        )
        .unwrap();
        assert_eq!(f.objectives[0].kind, ObjectiveKind::Dvh);
        assert_eq!(f.objectives[0].weight, 1.0);
        let no_volume = e(&obj("structure = \"Liver\"\nkind = \"dvh\"\ndose_gy = 30"));
        assert!(
            no_volume.contains("objective[0] 'Liver'.volume_pct"),
            "{no_volume}"
        );
        let kind = e(&obj("structure = \"Liver\"\nkind = \"v30\"\ndose_gy = 30"));
        assert!(kind.contains("v30"), "{kind}");
        let plan = |extra: &str| {
            GOOD.replace(
                "modality = \"proton\"",
                &format!("modality = \"proton\"\n{extra}"),
            )
        };
        let fluence = e(&plan("[plan.fluence]\nlevels = 5"));
        assert!(fluence.contains("plan[0] 'proton_1'.fluence"), "{fluence}");
        let both = e(&plan("rtplan = \"RP.dcm\""));
        assert!(
            both.contains(".rtplan") && both.contains("not both"),
            "{both}"
        );
        let k = e(&plan("particles_per_mu = 1e8"));
        assert!(k.contains(".particles_per_mu"), "{k}");
    }

    /// A machine file's range replaces the generic one, and its particle
    /// must be the plan's.
    #[test]
    fn spots_are_checked_against_the_plan_machine() {
        let f = PlanFile::parse(
            &GOOD.replace("energy = 150.0", "energy = 240.0").replace(
                "modality = \"proton\"",
                "modality = \"proton\"\nmachine = \"wide.toml\"",
            ),
            "p.toml",
        )
        .unwrap();
        let machine = |particle: &str| {
            IonMachine::parse(
                &format!("name = \"wide\"\nparticle = \"{particle}\"\nenergy = [60.0, 245.0]\nsigma_air_mm = [5.0, 3.0]\nenergy_spread_pct = [0.5, 0.5]"),
                "wide.toml",
            )
            .unwrap()
        };
        f.check_machine(0, &machine("proton"), "p.toml").unwrap();
        let carbon = f
            .check_machine(0, &machine("carbon"), "p.toml")
            .unwrap_err()
            .to_string();
        assert!(carbon.contains("plan[0] 'proton_1'.machine"), "{carbon}");
        let narrow = IonMachine::generic(Modality::Proton).unwrap();
        let e = f
            .check_machine(0, &narrow, "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("spot[0].energy") && e.contains("generic proton nozzle"),
            "{e}"
        );
    }
}
