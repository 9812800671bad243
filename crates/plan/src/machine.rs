//! The ion machine file (TOML): what a scanning nozzle delivers. Rows of
//! energy (MeV for protons, MeV/u for carbon), spot σ in air at the isocentre
//! (mm) and energy spread σ_E/E (%), linear between rows; the first and last
//! energies bound the machine's range. Optionally a virtual source-to-axis
//! distance (mm) for diverging spot rays, and measured integrated depth–dose
//! curves (a CSV file) that replace ferrodose's own; the machine then
//! delivers only the measured energies. Format: `docs/plan-format.md`.

use crate::{Modality, PlanError};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Energies closer than this (MeV/u) are the same energy (as the pencil-beam
/// base data's rows).
const SAME_ENERGY: f64 = 0.01;

/// Measured integrated depth–dose curves (IDDs) in water, one per energy:
/// the dose laterally integrated over a plane, per particle.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredIdds {
    /// Energies (MeV or MeV/u), strictly ascending.
    pub energies: Vec<f64>,
    /// Depths in water (mm), strictly ascending.
    pub depth_mm: Vec<f64>,
    /// One curve per energy, one value per depth (MeV·cm²/g per particle;
    /// 1 Gy·mm² = 6.2415 × 10⁷ MeV·cm²/g).
    pub idd_mev_cm2_g: Vec<Vec<f64>>,
}

impl MeasuredIdds {
    /// Parses `depth_mm,E1,E2,…` then rows of depth and one IDD per energy;
    /// blank lines and lines starting with `#` are skipped. Errors name the line.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PlanError> {
        let bad = |line: usize, problem: String| PlanError::Value {
            source_name: source_name.to_owned(),
            key: format!("line {line}"),
            problem,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .map(|(n, l)| (n + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'));
        let (n, header) = lines
            .next()
            .ok_or_else(|| bad(1, "empty: expected a header depth_mm,E1,E2,…".into()))?;
        let mut columns = header.split(',').map(str::trim);
        if columns.next() != Some("depth_mm") {
            return Err(bad(n, "the header must start with depth_mm".into()));
        }
        let energies = columns
            .map(|c| {
                c.parse::<f64>()
                    .map_err(|_| bad(n, format!("'{c}' is not an energy")))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        if energies.is_empty() || energies.windows(2).any(|w| w[1] <= w[0]) {
            return Err(bad(
                n,
                "give one or more energies in ascending order".into(),
            ));
        }
        let mut depth_mm = Vec::new();
        let mut idd = vec![Vec::new(); energies.len()];
        for (n, line) in lines {
            let values = line
                .split(',')
                .map(|c| {
                    c.trim()
                        .parse::<f64>()
                        .map_err(|_| bad(n, format!("'{c}' is not a number")))
                })
                .collect::<Result<Vec<f64>, _>>()?;
            if values.len() != energies.len() + 1 {
                return Err(bad(
                    n,
                    format!(
                        "{} values; the header has {}",
                        values.len(),
                        energies.len() + 1
                    ),
                ));
            }
            if depth_mm.last().is_some_and(|d| values[0] <= *d)
                || !values[0].is_finite()
                || values[0] < 0.0
            {
                return Err(bad(
                    n,
                    format!("depth {} mm: depths must ascend from 0", values[0]),
                ));
            }
            if let Some(v) = values[1..].iter().find(|v| !(**v >= 0.0 && v.is_finite())) {
                return Err(bad(n, format!("IDD {v} must be finite and non-negative")));
            }
            depth_mm.push(values[0]);
            for (column, v) in idd.iter_mut().zip(&values[1..]) {
                column.push(*v);
            }
        }
        if depth_mm.len() < 2 {
            return Err(bad(n, "give at least two depths".into()));
        }
        Ok(Self {
            energies,
            depth_mm,
            idd_mev_cm2_g: idd,
        })
    }

    /// The measured energy within 0.01 MeV/u of `energy`, if any.
    pub fn energy_index(&self, energy: f64) -> Option<usize> {
        self.energies
            .iter()
            .position(|e| (e - energy).abs() < SAME_ENERGY)
    }
}

/// A scanning nozzle for protons or carbon ions.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct IonMachine {
    pub name: String,
    /// `proton` or `carbon`.
    pub particle: Modality,
    /// Virtual source-to-axis distance (mm); absent: spot rays parallel to
    /// the beam axis. A beam's own `virtual_source_mm` takes precedence.
    pub virtual_source_mm: Option<f64>,
    /// Energies (MeV or MeV/u), strictly ascending.
    pub energy: Vec<f64>,
    /// Spot σ in air at the isocentre (mm), one per energy.
    pub sigma_air_mm: Vec<f64>,
    /// Energy spread σ_E/E (%), one per energy.
    pub energy_spread_pct: Vec<f64>,
    /// Measured IDDs (CSV, relative to the machine file); absent, ferrodose
    /// generates them from its physics.
    pub idd_csv: Option<PathBuf>,
    /// The curves of `idd_csv`, read by `load`.
    #[serde(skip)]
    pub measured_idds: Option<MeasuredIdds>,
}

/// Energies (MeV/u) the physics tables cover for each particle: protons down
/// to 10 MeV (where the CSDA range is validated) and up to 250 MeV; carbon
/// from 50 to 450 MeV/u.
fn physics_range(particle: Modality) -> Option<(f64, f64)> {
    match particle {
        Modality::Proton => Some((10.0, 250.0)),
        Modality::Carbon => Some((50.0, 450.0)),
        Modality::Photon => None,
    }
}

impl IonMachine {
    /// The built-in generic nozzle of an ion modality (`None` for photons).
    pub fn generic(modality: Modality) -> Option<Self> {
        let (text, name) = match modality {
            Modality::Proton => (
                include_str!("../machines/generic_proton.toml"),
                "generic_proton.toml",
            ),
            Modality::Carbon => (
                include_str!("../machines/generic_carbon.toml"),
                "generic_carbon.toml",
            ),
            Modality::Photon => return None,
        };
        Some(Self::parse(text, name).expect("the built-in machine files are valid"))
    }

    /// Reads and checks a machine file and the measured IDDs it names.
    pub fn load(path: &Path) -> Result<Self, PlanError> {
        let read = |path: &Path, what: &str| {
            std::fs::read_to_string(path).map_err(|e| PlanError::Parse {
                source_name: path.display().to_string(),
                message: format!("cannot read the {what}: {e}"),
            })
        };
        let source_name = path.display().to_string();
        let mut machine = Self::parse(&read(path, "machine file")?, &source_name)?;
        if let Some(csv) = &machine.idd_csv {
            let csv = path.parent().unwrap_or(Path::new("")).join(csv);
            let idds = MeasuredIdds::parse(
                &read(&csv, "measured IDD file")?,
                &csv.display().to_string(),
            )?;
            if let Some(e) = idds.energies.iter().find(|e| !machine.within_range(**e)) {
                let (lo, hi) = machine.energy_range();
                return Err(PlanError::Value {
                    source_name: csv.display().to_string(),
                    key: "header".into(),
                    problem: format!("energy {e} is outside the machine's {lo}–{hi} range"),
                });
            }
            machine.measured_idds = Some(idds);
        }
        Ok(machine)
    }

    /// Parses and checks a machine file; `source_name` is named in errors.
    pub fn parse(text: &str, source_name: &str) -> Result<Self, PlanError> {
        let machine: Self = toml::from_str(text).map_err(|e| PlanError::Parse {
            source_name: source_name.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        machine.check().map_err(|(key, problem)| PlanError::Value {
            source_name: source_name.to_owned(),
            key: key.to_owned(),
            problem,
        })?;
        Ok(machine)
    }

    fn check(&self) -> Result<(), (&'static str, String)> {
        let (lo, hi) = physics_range(self.particle).ok_or((
            "particle",
            "a scanning nozzle delivers proton or carbon".to_owned(),
        ))?;
        if self.name.trim().is_empty() {
            return Err(("name", "must not be empty".into()));
        }
        let n = self.energy.len();
        if n == 0 {
            return Err(("energy", "give at least one energy".into()));
        }
        for (key, len) in [
            ("sigma_air_mm", self.sigma_air_mm.len()),
            ("energy_spread_pct", self.energy_spread_pct.len()),
        ] {
            if len != n {
                return Err((key, format!("{len} values for {n} energies")));
            }
        }
        for (i, e) in self.energy.iter().enumerate() {
            if !(lo..=hi).contains(e) {
                return Err((
                    "energy",
                    format!("{e} is outside the {lo}–{hi} the physics tables cover"),
                ));
            }
            if i > 0 && *e <= self.energy[i - 1] {
                return Err((
                    "energy",
                    format!("{e} follows {}: not ascending", self.energy[i - 1]),
                ));
            }
        }
        if let Some(s) = self
            .sigma_air_mm
            .iter()
            .find(|s| !(**s > 0.0 && **s < 30.0))
        {
            return Err(("sigma_air_mm", format!("{s} mm is outside 0–30 mm")));
        }
        if let Some(s) = self
            .energy_spread_pct
            .iter()
            .find(|s| !(**s >= 0.0 && **s <= 5.0))
        {
            return Err(("energy_spread_pct", format!("{s} % is outside 0–5 %")));
        }
        if let Some(sad) = self.virtual_source_mm {
            if !(sad >= 500.0 && sad.is_finite()) {
                return Err((
                    "virtual_source_mm",
                    format!("{sad} mm: a virtual source closer than 500 mm to the isocentre is not a scanning nozzle"),
                ));
            }
        }
        Ok(())
    }

    /// Lowest and highest energy the machine delivers (MeV or MeV/u).
    pub fn energy_range(&self) -> (f64, f64) {
        (self.energy[0], self.energy[self.energy.len() - 1])
    }

    /// Whether `energy` lies within the machine's range.
    pub fn within_range(&self, energy: f64) -> bool {
        let (lo, hi) = self.energy_range();
        (lo..=hi).contains(&energy)
    }

    /// Whether the machine delivers `energy`: within its range and, when it
    /// has measured IDDs, one of their energies.
    pub fn delivers(&self, energy: f64) -> bool {
        self.within_range(energy)
            && self
                .measured_idds
                .as_ref()
                .is_none_or(|m| m.energy_index(energy).is_some())
    }

    /// Why the machine does not deliver `energy` (naming the machine and its
    /// range), or `None` when it does.
    pub fn refusal(&self, energy: f64) -> Option<String> {
        let (lo, hi) = self.energy_range();
        let problem = if !self.within_range(energy) {
            "is outside the machine's range"
        } else if !self.delivers(energy) {
            "is not one of the energies of the machine's measured IDDs"
        } else {
            return None;
        };
        Some(format!("{energy} {problem} ('{}', {lo}–{hi})", self.name))
    }

    /// The energy the machine delivers for a wanted `energy`: `None` outside
    /// its range; the nearest measured energy when it has measured IDDs;
    /// otherwise `energy` itself.
    pub fn deliverable(&self, energy: f64) -> Option<f64> {
        if !self.within_range(energy) {
            return None;
        }
        Some(match &self.measured_idds {
            Some(m) => m
                .energies
                .iter()
                .copied()
                .min_by(|a, b| (a - energy).abs().total_cmp(&(b - energy).abs()))
                .expect("measured IDDs have an energy"),
            None => energy,
        })
    }

    /// Spot σ in air at the isocentre (mm) at `energy`.
    pub fn sigma_air_mm(&self, energy: f64) -> f64 {
        self.interpolate(&self.sigma_air_mm, energy)
    }

    /// The smallest spot σ in air (mm) of the machine.
    pub fn min_sigma_air_mm(&self) -> f64 {
        self.sigma_air_mm
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min)
    }

    /// Energy spread σ_E/E (a fraction, not %) at `energy`.
    pub fn energy_spread(&self, energy: f64) -> f64 {
        self.interpolate(&self.energy_spread_pct, energy) / 100.0
    }

    /// `values` at `energy`, linear between rows, held beyond the ends.
    fn interpolate(&self, values: &[f64], energy: f64) -> f64 {
        let k = self.energy.partition_point(|e| *e <= energy);
        if k == 0 {
            values[0]
        } else if k == self.energy.len() {
            values[k - 1]
        } else {
            let (e0, e1) = (self.energy[k - 1], self.energy[k]);
            values[k - 1] + (values[k] - values[k - 1]) * (energy - e0) / (e1 - e0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MACHINE: &str = r#"
name = "test nozzle"
particle = "proton"
virtual_source_mm = 2200.0
energy = [70.0, 150.0, 230.0]
sigma_air_mm = [6.0, 4.0, 3.0]
energy_spread_pct = [1.0, 0.6, 0.4]
"#;

    #[test]
    fn interpolates_between_rows_and_holds_beyond() {
        let m = IonMachine::parse(MACHINE, "m.toml").unwrap();
        assert_eq!(m.energy_range(), (70.0, 230.0));
        assert_eq!(m.sigma_air_mm(110.0), 5.0);
        assert_eq!(m.sigma_air_mm(230.0), 3.0);
        assert_eq!(m.sigma_air_mm(300.0), 3.0);
        assert!((m.energy_spread(190.0) - 0.005).abs() < 1e-12);
        assert_eq!(m.min_sigma_air_mm(), 3.0);
        assert!(m.delivers(70.0) && !m.delivers(69.9));
    }

    #[test]
    fn the_built_in_machines_match_the_documented_ranges() {
        let p = IonMachine::generic(Modality::Proton).unwrap();
        assert_eq!(p.energy_range(), (70.0, 230.0));
        assert_eq!(p.sigma_air_mm(150.0), 4.0);
        assert!((p.energy_spread(150.0) - 0.008).abs() < 1e-12);
        let c = IonMachine::generic(Modality::Carbon).unwrap();
        assert_eq!(c.energy_range(), (85.0, 430.0));
        assert!(IonMachine::generic(Modality::Photon).is_none());
    }

    const IDDS: &str = "# depth (mm), IDD (MeV cm2/g per proton) at 100 and 150 MeV\n\
                        depth_mm, 100, 150\n\
                        0, 5.0, 4.0\n\
                        10, 6.0, 4.5\n\
                        80, 0.0, 6.0\n";

    #[test]
    fn measured_idds_parse_and_fix_the_energies() {
        let idds = MeasuredIdds::parse(IDDS, "idd.csv").unwrap();
        assert_eq!(idds.energies, vec![100.0, 150.0]);
        assert_eq!(idds.depth_mm, vec![0.0, 10.0, 80.0]);
        assert_eq!(idds.idd_mev_cm2_g[1], vec![4.0, 4.5, 6.0]);
        let mut m = IonMachine::parse(MACHINE, "m.toml").unwrap();
        assert_eq!(m.deliverable(131.3), Some(131.3));
        m.measured_idds = Some(idds);
        assert_eq!(m.deliverable(131.3), Some(150.0));
        assert_eq!(m.deliverable(120.0), Some(100.0));
        assert_eq!(m.deliverable(60.0), None);
        assert!(m.delivers(150.005) && !m.delivers(131.3));
        let refusal = m.refusal(131.3).unwrap();
        assert!(
            refusal.contains("measured IDDs") && refusal.contains("test nozzle"),
            "{refusal}"
        );
        assert!(m
            .refusal(300.0)
            .unwrap()
            .contains("outside the machine's range"));
        assert_eq!(m.refusal(100.0), None);

        let e = |from: &str, to: &str| {
            MeasuredIdds::parse(&IDDS.replace(from, to), "idd.csv")
                .unwrap_err()
                .to_string()
        };
        assert!(e("depth_mm,", "z,").contains("idd.csv: line 2"));
        assert!(e("10, 6.0", "0, 6.0").contains("line 4: depth 0 mm"));
        assert!(e("4.5\n", "4.5, 1.0\n").contains("line 4: 4 values; the header has 3"));
        assert!(e("6.0, 4.5", "-6.0, 4.5").contains("IDD -6"));
        assert!(e("100, 150", "150, 100").contains("ascending"));
    }

    #[test]
    fn bad_machines_are_refused_naming_the_key() {
        let e = |from: &str, to: &str| {
            IonMachine::parse(&MACHINE.replace(from, to), "m.toml")
                .unwrap_err()
                .to_string()
        };
        let order = e("150.0, 230.0", "250.0, 230.0");
        assert!(
            order.contains("m.toml: energy") && order.contains("ascending"),
            "{order}"
        );
        let count = e("[6.0, 4.0, 3.0]", "[6.0, 4.0]");
        assert!(
            count.contains("sigma_air_mm: 2 values for 3 energies"),
            "{count}"
        );
        let physics = e("230.0]", "300.0]");
        assert!(physics.contains("10–250"), "{physics}");
        let sigma = e("3.0]", "-3.0]");
        assert!(sigma.contains("sigma_air_mm"), "{sigma}");
        let spread = e("0.4]", "7.0]");
        assert!(spread.contains("energy_spread_pct"), "{spread}");
        let photon = e("\"proton\"", "\"photon\"");
        assert!(photon.contains("particle"), "{photon}");
        let unknown = e("name =", "nozzle_gap_mm = 3\nname =");
        assert!(unknown.contains("nozzle_gap_mm"), "{unknown}");
        let sad = e("2200.0", "100.0");
        assert!(sad.contains("virtual_source_mm"), "{sad}");
    }
}
