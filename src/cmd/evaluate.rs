//! What `run` reports for each plan: cumulative DVHs (`dvh.csv`), dose metrics
//! (`metrics.json`), and the side-by-side comparison of all plans
//! (`comparison.json` and a table on the terminal). Evaluated on the CT grid,
//! with the dose interpolated trilinearly from the dose grid.

use super::output::write_atomic;
use ferrodose_evaluation::{
    liver_constraints, ConstraintResult, Dvh, StructureMetrics, TargetMetrics,
};
use ferrodose_grid::{Grid, Mask, Volume};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The structures a plan is evaluated on, on the CT grid.
pub struct Structures {
    /// Name and mask; `NormalLiver` (Liver − GTV) is added when both exist.
    pub list: Vec<(String, Mask)>,
    /// The prescription's target, if any.
    pub target: Option<String>,
    /// Where dose counts for isodose volumes and integral dose: `BODY` if
    /// present, else every voxel.
    pub body: Mask,
    /// α/β (Gy) per structure.
    pub alpha_beta_gy: BTreeMap<String, f64>,
}

/// Name of the derived normal-liver structure.
pub const NORMAL_LIVER: &str = "NormalLiver";

impl Structures {
    /// `structures` of the CT (on `ct_grid`; none is allowed) with the plan
    /// file's α/β table (`overrides`); targets (the prescription target and
    /// names starting GTV, CTV, ITV, PTV) default to 10 Gy, everything else to
    /// 3 Gy. Without a BODY or External structure the body is the whole CT.
    pub fn new(
        mut list: Vec<(String, Mask)>,
        ct_grid: &Grid,
        target: Option<String>,
        overrides: &BTreeMap<String, f64>,
    ) -> Result<Self, super::Error> {
        let find = |n: &str| list.iter().find(|(name, _)| name == n).map(|(_, m)| m);
        if let (Some(liver), Some(gtv)) = (find("Liver"), find("GTV")) {
            let normal = liver.minus(gtv);
            list.push((NORMAL_LIVER.to_owned(), normal));
        }
        for name in overrides.keys() {
            if !list.iter().any(|(n, _)| n == name) {
                let names: Vec<&str> = list.iter().map(|(n, _)| n.as_str()).collect();
                return Err(format!(
                    "alpha_beta_gy.{name}: no structure of that name; the CT has: {}",
                    names.join(", ")
                )
                .into());
            }
        }
        let grid = ct_grid.clone();
        let body = list
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("BODY") || n.eq_ignore_ascii_case("External"))
            .map(|(_, m)| m.clone())
            .unwrap_or_else(|| Mask::from_vec(grid.clone(), vec![true; grid.len()]));
        let alpha_beta_gy = list
            .iter()
            .map(|(n, _)| {
                let is_target = Some(n) == target.as_ref()
                    || ["GTV", "CTV", "ITV", "PTV"]
                        .iter()
                        .any(|p| n.to_ascii_uppercase().starts_with(p));
                let default = if is_target { 10.0 } else { 3.0 };
                (n.clone(), overrides.get(n).copied().unwrap_or(default))
            })
            .collect();
        Ok(Self {
            list,
            target,
            body,
            alpha_beta_gy,
        })
    }
}

/// The evaluation of one plan.
#[derive(Serialize)]
pub struct PlanReport {
    pub plan: String,
    pub modality: String,
    /// Unit of every dose in the report: "Gy(RBE)" for ions.
    pub dose_unit: String,
    pub fractions: u32,
    /// The treatment machine's name (ion nozzle or linac, with its beam
    /// quality), where the dose was computed by ferrodose.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    pub device: String,
    pub seconds: f64,
    pub structures: Vec<StructureMetrics>,
    /// The prescription's target structure and its indices.
    pub target_structure: Option<String>,
    pub target: Option<TargetMetrics>,
    pub constraints: Vec<ConstraintResult>,
    /// Σ dose × volume over the body (Gy·L).
    pub integral_dose_gy_l: f64,
    #[serde(skip)]
    pub dvhs: Vec<(String, Dvh)>,
    /// The evaluated dose on the CT grid.
    #[serde(skip)]
    pub dose_on_ct: Volume<f32>,
}

impl PlanReport {
    /// Evaluates `dose` (any grid in the CT's frame) on `structures`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &str,
        modality: &str,
        dose_unit: &str,
        dose: &Volume<f32>,
        structures: &Structures,
        prescription_gy: Option<f64>,
        fractions: u32,
        device: &str,
        seconds: f64,
    ) -> Self {
        let ct_grid = structures.body.grid();
        let on_ct = dose.resample(ct_grid, 0.0);
        let dvhs: Vec<(String, Dvh)> = structures
            .list
            .iter()
            .map(|(n, m)| (n.clone(), Dvh::new(&on_ct, m)))
            .collect();
        let body = Dvh::new(&on_ct, &structures.body);
        let metrics = dvhs
            .iter()
            .map(|(n, h)| StructureMetrics::new(n, h, structures.alpha_beta_gy[n], fractions))
            .collect();
        let target = match (&structures.target, prescription_gy) {
            (Some(t), Some(rx)) => dvhs
                .iter()
                .find(|(n, _)| n == t)
                .map(|(_, h)| TargetMetrics::new(h, &body, rx)),
            _ => None,
        };
        let constraints = dvhs
            .iter()
            .find(|(n, _)| n == NORMAL_LIVER)
            .map(|(n, h)| liver_constraints(n).iter().map(|c| c.evaluate(h)).collect())
            .unwrap_or_default();
        Self {
            plan: plan.to_owned(),
            modality: modality.to_owned(),
            dose_unit: dose_unit.to_owned(),
            fractions,
            machine: None,
            device: device.to_owned(),
            seconds,
            structures: metrics,
            target_structure: structures.target.clone(),
            target,
            constraints,
            integral_dose_gy_l: body.mean_gy() * body.volume_cc() / 1000.0,
            dvhs,
            dose_on_ct: on_ct,
        }
    }

    /// The report with the machine's name set.
    pub fn with_machine(mut self, name: &str) -> Self {
        self.machine = Some(name.to_owned());
        self
    }

    /// Cumulative DVHs as CSV: structure, dose (Gy or Gy(RBE)), % and cc
    /// receiving at least that dose, in steps of `step_gy`.
    pub fn dvh_csv(&self, step_gy: f64) -> String {
        let unit = if self.dose_unit == "Gy" {
            "dose_gy"
        } else {
            "dose_gy_rbe"
        };
        let mut csv = format!("structure,{unit},volume_pct,volume_cc\n");
        for (name, h) in &self.dvhs {
            for (d, pct, cc) in h.curve(step_gy) {
                csv += &format!("{name},{d:.4},{pct:.4},{cc:.4}\n");
            }
        }
        csv
    }

    /// Writes `dvh.csv` (0.1 Gy steps) and `metrics.json` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), super::Error> {
        write_atomic(&dir.join("dvh.csv"), self.dvh_csv(0.1).as_bytes())?;
        let json = serde_json::to_string_pretty(self)?;
        write_atomic(&dir.join("metrics.json"), json.as_bytes())
    }

    fn structure(&self, name: &str) -> Option<&StructureMetrics> {
        self.structures.iter().find(|s| s.name == name)
    }

    fn target_metrics(&self) -> Option<&StructureMetrics> {
        self.structure(self.target_structure.as_ref()?)
    }
}

/// The side-by-side metrics: a label and one cell per plan ("–" where a
/// metric does not apply).
pub fn comparison_rows(reports: &[PlanReport]) -> Vec<(String, Vec<String>)> {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&PlanReport) -> Option<String>| {
        let cells: Vec<String> = reports
            .iter()
            .map(|r| f(r).unwrap_or_else(|| "–".into()))
            .collect();
        rows.push((label.to_owned(), cells));
    };
    row("dose unit", &|r| Some(r.dose_unit.clone()));
    row("target D95 (% Rx)", &|r| {
        let t = r.target.as_ref()?;
        Some(format!(
            "{:.1}",
            100.0 * r.target_metrics()?.d95_gy / t.prescription_gy
        ))
    });
    row("target D2 (% Rx)", &|r| {
        let t = r.target.as_ref()?;
        Some(format!(
            "{:.1}",
            100.0 * r.target_metrics()?.d2_gy / t.prescription_gy
        ))
    });
    row("target coverage V100 (%)", &|r| {
        Some(format!("{:.1}", r.target.as_ref()?.coverage_pct))
    });
    row("Paddick CI", &|r| {
        Some(format!("{:.2}", r.target.as_ref()?.paddick_ci))
    });
    row("homogeneity index", &|r| {
        Some(format!("{:.3}", r.target.as_ref()?.homogeneity_index))
    });
    row("gradient index", &|r| {
        Some(format!("{:.2}", r.target.as_ref()?.gradient_index))
    });
    row("normal liver V20 (%)", &|r| {
        Some(format!("{:.1}", r.structure(NORMAL_LIVER)?.v[3].pct))
    });
    row("normal liver V30 (%)", &|r| {
        Some(format!("{:.1}", r.structure(NORMAL_LIVER)?.v[5].pct))
    });
    row("normal liver mean", &|r| {
        Some(format!("{:.1}", r.structure(NORMAL_LIVER)?.mean_gy))
    });
    row("constraints passed", &|r| {
        (!r.constraints.is_empty()).then(|| {
            format!(
                "{}/{}",
                r.constraints.iter().filter(|c| c.pass).count(),
                r.constraints.len()
            )
        })
    });
    row("integral dose (Gy·L)", &|r| {
        Some(format!("{:.1}", r.integral_dose_gy_l))
    });
    rows
}

/// Writes `comparison.json` into `dir` and prints the plans side by side.
pub fn compare(reports: &[PlanReport], dir: &Path) -> Result<(), super::Error> {
    #[derive(Serialize)]
    struct Comparison<'a> {
        plans: &'a [PlanReport],
    }
    let json = serde_json::to_string_pretty(&Comparison { plans: reports })?;
    write_atomic(&dir.join("comparison.json"), json.as_bytes())?;
    let rows = comparison_rows(reports);
    let width = rows
        .iter()
        .map(|(l, _)| l.chars().count())
        .max()
        .unwrap_or(0);
    let cols: Vec<usize> = reports
        .iter()
        .enumerate()
        .map(|(i, r)| {
            rows.iter()
                .map(|(_, c)| c[i].chars().count())
                .chain(std::iter::once(r.plan.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |label: &str, cells: &[String]| {
        let mut s = format!("{label:<width$}");
        for (c, w) in cells.iter().zip(&cols) {
            s += &format!("  {c:>w$}");
        }
        s
    };
    let names: Vec<String> = reports.iter().map(|r| r.plan.clone()).collect();
    println!("{}", line("", &names));
    for (label, cells) in &rows {
        println!("{}", line(label, cells));
    }
    Ok(())
}
