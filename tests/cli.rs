//! The `ferrodose` binary end to end: phantoms written and read back, `inspect`
//! on good and bad input.

use std::path::Path;
use std::process::{Command, Output};

fn ferrodose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrodose"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs `ferrodose` expecting success and parses its CSV output (header skipped).
fn csv_rows(args: &[&str]) -> Vec<Vec<f64>> {
    let o = ferrodose(args);
    assert!(o.status.success(), "{}", text(&o));
    String::from_utf8_lossy(&o.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|v| v.parse().unwrap()).collect())
        .collect()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

/// Each built-in phantom written as DICOM and imported again gives back exactly
/// the HU and the masks it was built with.
#[test]
fn phantoms_round_trip_through_dicom() {
    for name in ferrodose_phantom::BUILTIN {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join(name);
        let o = ferrodose(&["phantom", name, "--out", out.to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
        let built = ferrodose_phantom::Phantom::builtin(name)
            .unwrap()
            .build()
            .unwrap();
        let study = ferrodose_rtio::Study::load(&out).unwrap();
        assert!(study.ct.hu.grid().same_as(built.hu.grid(), 1e-6));
        assert_eq!(study.ct.hu.data(), built.hu.data());
        let ss = study.structures.unwrap();
        assert!(ss.warnings.is_empty(), "{:?}", ss.warnings);
        assert_eq!(ss.structures.len(), built.rois.len());
        for (roi, mask) in &built.rois {
            let s = ss.get(&roi.name).unwrap();
            assert_eq!(s.interpreted_type, roi.interpreted_type);
            assert_eq!(s.mask.data(), mask.data(), "{name}: {}", roi.name);
        }
    }
}

#[test]
fn phantom_refuses_to_overwrite_and_unknown_names() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    std::fs::write(dir.path().join("keep.txt"), "earlier results").unwrap();
    let o = ferrodose(&["phantom", "water", "--out", out]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--force"), "{}", text(&o));
    let o = ferrodose(&["phantom", "pancreas", "--out", out]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("unknown phantom 'pancreas'"),
        "{}",
        text(&o)
    );
}

#[test]
fn inspect_tg119_as_json() {
    let tg119 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tg119/dicom");
    let o = ferrodose(&["inspect", tg119.to_str().unwrap(), "--json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["shape"], serde_json::json!([167, 167, 129]));
    assert_eq!(v["spacing_mm"], serde_json::json!([3.0, 3.0, 2.5]));
    assert_eq!(v["hu_min"], -1000.0);
    assert_eq!(v["hu_max"], 1040.0);
    let core = v["rois"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Core")
        .unwrap();
    assert_eq!(core["voxels"], 1320);
    assert_eq!(core["interpreted_type"], "ORGAN");
}

#[test]
fn inspect_reports_bad_input_without_panicking() {
    let dir = tempfile::tempdir().unwrap();
    let ct = dir.path().join("ct");
    assert!(
        ferrodose(&["phantom", "slab", "--out", ct.to_str().unwrap()])
            .status
            .success()
    );
    std::fs::remove_file(ct.join("CT_0050.dcm")).unwrap();
    let o = ferrodose(&["inspect", ct.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("missing slice") && t.contains("CT_0049.dcm") && !t.contains("panicked"),
        "{t}"
    );

    let o = ferrodose(&["inspect", dir.path().join("nowhere").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("nowhere"));
}

/// pydicom (independent reader) reads the liver phantom's CT and RTSTRUCT.
#[test]
fn pydicom_reads_the_liver_phantom() {
    let has = Command::new("python3")
        .args(["-c", "import pydicom, numpy"])
        .status()
        .is_ok_and(|s| s.success());
    if !has {
        assert_ne!(
            std::env::var("FERRODOSE_REQUIRE_PYDICOM").as_deref(),
            Ok("1"),
            "pydicom required"
        );
        eprintln!("skipped: python3 with pydicom and numpy not found");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("liver");
    assert!(
        ferrodose(&["phantom", "liver", "--out", out.to_str().unwrap()])
            .status
            .success()
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/pydicom_check.py");
    let o = Command::new("python3")
        .arg(script)
        .arg("study")
        .arg(&out)
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("88 CT slices") && t.contains("'GTV'") && t.contains("HU -1000..700"),
        "{t}"
    );
}

#[test]
fn physics_table_prints_csv_and_refuses_bad_requests() {
    let o = ferrodose(&[
        "physics",
        "table",
        "--particle",
        "proton",
        "--material",
        "water",
        "--energies",
        "70,100,150",
        "--i-ev",
        "75",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "energy_MeV,mass_stopping_power_MeV_cm2_g,csda_range_g_cm2"
    );
    assert_eq!(lines.len(), 4);
    // PSTAR CSDA range at 100 MeV: 7.718 g/cm² (0.5 %).
    let r100: f64 = lines[2].split(',').nth(2).unwrap().parse().unwrap();
    assert!((r100 / 7.718 - 1.0).abs() < 0.005);
    for (args, needle) in [
        (
            vec!["--particle", "muon", "--energies", "100"],
            "unknown particle 'muon'",
        ),
        (
            vec![
                "--particle",
                "proton",
                "--material",
                "lead",
                "--energies",
                "100",
            ],
            "unknown material 'lead'",
        ),
        (
            vec!["--particle", "carbon", "--energies", "2000"],
            "outside the model's range",
        ),
    ] {
        let mut all = vec!["physics", "table"];
        all.extend(args);
        let o = ferrodose(&all);
        assert_eq!(o.status.code(), Some(1));
        assert!(text(&o).contains(needle), "{}", text(&o));
        assert!(o.stdout.is_empty(), "no partial table on error");
    }
}

#[test]
fn physics_calibration_prints_schneider_curve() {
    let rows = csv_rows(&["physics", "calibration", "--hu=-1000,0,1300"]);
    assert_eq!(rows.len(), 3);
    // Schneider 2000 density fit: 0.00121 g/cm³ for air, 1.018 at 0 HU.
    assert!((rows[0][1] - 0.00121).abs() < 1e-5);
    assert!((rows[1][1] - 1.018).abs() < 1e-5);
    assert!(rows[2][3] > 1.5, "bone RSP");
}

#[test]
fn physics_photon_prints_coefficients_and_refuses_bad_input() {
    let rows = csv_rows(&[
        "physics",
        "photon",
        "--material",
        "water",
        "--energies",
        "1,6",
    ]);
    // XCOM water: 0.07072 cm²/g at 1 MeV, 0.02770 at 6 MeV (1 %).
    assert!((rows[0][1] / 0.07072 - 1.0).abs() < 0.01);
    assert!((rows[1][1] / 0.02770 - 1.0).abs() < 0.01);
    let o = ferrodose(&["physics", "photon", "--material", "lead", "--energies", "1"]);
    assert!(!o.status.success() && text(&o).contains("unknown material 'lead'"));
    let o = ferrodose(&["physics", "photon", "--energies", "30"]);
    assert!(!o.status.success() && text(&o).contains("outside"));
    assert!(o.stdout.is_empty());
}

/// `physics photon-kernel --beam 10MV-FFF` writes a kernel of that spectrum
/// that the photon machine's reader accepts (a short run); an unknown beam
/// is refused, naming the ones there are, and writes nothing.
#[test]
fn physics_photon_kernel_by_beam() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("k.txt");
    let o = ferrodose(&[
        "physics",
        "photon-kernel",
        "--beam",
        "10MV-FFF",
        "--photons",
        "20000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let kernel = std::fs::read_to_string(&out).unwrap();
    let parsed = ferrodose_physics::photon_kernel::PhotonKernel::from_text(&kernel).unwrap();
    assert_eq!(parsed.spectrum, "10 MV FFF");
    let bad = dir.path().join("bad.txt");
    let o = ferrodose(&[
        "physics",
        "photon-kernel",
        "--beam",
        "6MV-FFF",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert!(
        !o.status.success()
            && text(&o).contains("--beam 6MV-FFF: ferrodose has spectra for 6MV, 10MV-FFF"),
        "{}",
        text(&o)
    );
    assert!(!bad.exists());
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

/// `ferrodose run` on the single-spot water example: RT Dose files for
/// physical and RBE-weighted dose on the phantom's frame of reference, with the
/// Bragg peak near the CSDA range of 150 MeV protons (158.6 mm) below the surface.
#[test]
fn run_single_spot_example_writes_rt_dose() {
    let dir = tempfile::tempdir().unwrap();
    let phys = ferrodose_rtio::read_rt_dose(&generic_spot_dose(dir.path())).unwrap();
    let out = dir.path().join("generic");
    let rbe = ferrodose_rtio::read_rt_dose(&out.join("spot150/RTDOSE_rbe.dcm")).unwrap();
    assert_eq!(phys.dose_type, ferrodose_rtio::DoseType::Physical);
    assert_eq!(rbe.dose_type, ferrodose_rtio::DoseType::Effective);
    let ct = ferrodose_rtio::Study::load(&out.join("ct")).unwrap();
    assert_eq!(
        phys.frame_of_reference_uid,
        ct.ct.info.frame_of_reference_uid
    );
    let (imax, max) = phys
        .dose_gy
        .data()
        .iter()
        .enumerate()
        .fold((0, 0.0f32), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
    let [i, j, k] = phys.dose_gy.grid().ijk(imax);
    let peak = phys.dose_gy.grid().voxel_centre(i, j, k);
    // Surface at y = −150 mm; the peak lies a few mm before the CSDA range.
    assert!(
        (peak.y + 150.0 - 152.0).abs() < 8.0,
        "peak at depth {}",
        peak.y + 150.0
    );
    assert!(peak.x.abs() < 2.0 && peak.z.abs() < 2.0);
    let rbe_max = rbe.dose_gy.min_max().1;
    assert!((rbe_max / max - 1.1).abs() < 1e-4);
    // Never overwrites: a second run into the same directory is refused.
    let o = ferrodose(&[
        "run",
        &example("proton_spot_water.toml"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success() && text(&o).contains("--force"));
}

#[test]
fn run_refuses_bad_plans_naming_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(example("proton_spot_water.toml")).unwrap();
    let cases = [
        (base.replace("x_mm = 0.0", "x_mm = 400.0"), "misses the CT"),
        (
            base.replace("energy = 150.0", "energy = 260.0"),
            "260 is outside the machine's range ('generic proton nozzle', 70–230)",
        ),
        (
            base.replace("modality = \"proton\"", "modality = \"photon\""),
            "photon beams take no spots",
        ),
        (
            format!(
                "{base}\n[[plan.arc]]\nstart_deg = 0\nstop_deg = 90\nisocentre = [0.0, 0.0, 0.0]\n"
            ),
            "arcs are for photon plans",
        ),
        (
            base.replace(
                "[dose]",
                "[prescription]\ntarget = \"Tumour\"\ndose_gy = 50.0\nfractions = 5\n\n[dose]",
            ),
            "no structure named 'Tumour'",
        ),
        (
            base.replace("gantry_deg = 0", "gantry_deg = 0\nwedge = true"),
            "wedge",
        ),
    ];
    for (plan, needle) in &cases {
        assert_run_refused(dir.path(), plan, needle);
    }
}

/// `ferrodose run` on plan text written to `dir` exits with status 1, without
/// a panic, saying `needle`.
fn assert_run_refused(dir: &Path, plan_text: &str, needle: &str) {
    let (o, _) = run_written_plan(dir, "refused", plan_text);
    let t = text(&o);
    assert!(
        o.status.code() == Some(1) && t.contains(needle) && !t.contains("panicked"),
        "{needle}: {t}"
    );
}

/// The single-spot water example with the generic nozzle, run into `dir`;
/// its physical RT Dose.
fn generic_spot_dose(dir: &Path) -> std::path::PathBuf {
    let out = dir.join("generic");
    let o = ferrodose(&[
        "run",
        &example("proton_spot_water.toml"),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    out.join("spot150/RTDOSE_physical.dcm")
}

/// Dose (Gy) in the voxel nearest the central axis at `depth_mm` below the
/// water phantom's anterior surface (y = −150 mm) in an RT Dose, and that
/// voxel centre's squared distance from the axis (mm²).
fn near_axis_dose(rt_dose: &Path, depth_mm: f64) -> (f64, f64) {
    let d = ferrodose_rtio::read_rt_dose(rt_dose).unwrap().dose_gy;
    let g = d.grid();
    let c = g.patient_to_continuous(&ferrodose_grid::Point3::new(0.0, depth_mm - 150.0, 0.0));
    let [i, j, k] = [0, 1, 2].map(|a| c[a].round() as usize);
    let centre = g.voxel_centre(i, j, k);
    (
        f64::from(d.data()[g.index(i, j, k)]),
        centre.x.powi(2) + centre.z.powi(2),
    )
}

/// A machine file replaces the generic nozzle: its energy range bounds the
/// spots (the error names the machine) and its σ in air at the spot's energy
/// is used. Near the surface (20 mm, where multiple scattering adds about
/// 0.3 mm in quadrature) one spot's dose at distance r from its axis goes as
/// exp(−r²/2σ²)/σ²: the machine's 6 mm spot (σ interpolated between 7 mm at
/// 100 MeV and 5 mm at 200 MeV) against the generic 4 mm one, within 2 %.
#[test]
fn run_uses_the_plan_machine_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("nozzle.toml"),
        "name = \"wide test nozzle\"\nparticle = \"proton\"\nenergy = [100.0, 200.0]\nsigma_air_mm = [7.0, 5.0]\nenergy_spread_pct = [0.8, 0.8]\n",
    )
    .unwrap();
    let base = std::fs::read_to_string(example("proton_spot_water.toml")).unwrap();
    let with_machine = base.replace("sigma_air_mm = 4.0\n", "").replace(
        "modality = \"proton\"",
        "modality = \"proton\"\nmachine = \"nozzle.toml\"",
    );
    let (t, out) = run_plan_text(dir.path(), &with_machine);
    assert!(t.contains("wide test nozzle"), "{t}");
    let (wide, r2) = near_axis_dose(&out.join("spot150/RTDOSE_physical.dcm"), 20.0);
    let (generic, _) = near_axis_dose(&generic_spot_dose(dir.path()), 20.0);
    let gauss = |sigma: f64| (-0.5 * r2 / (sigma * sigma)).exp() / (sigma * sigma);
    let expected = gauss(6.0) / gauss(4.0);
    assert!(
        (wide / generic / expected - 1.0).abs() < 0.02,
        "{} vs {expected}",
        wide / generic
    );

    for (plan, needle) in [
        (
            with_machine.replace("energy = 150.0", "energy = 90.0"),
            "90 is outside the machine's range ('wide test nozzle', 100–200)",
        ),
        (
            with_machine.replace("nozzle.toml", "missing.toml"),
            "missing.toml: cannot read the machine file",
        ),
    ] {
        assert_run_refused(dir.path(), &plan, needle);
    }
}

/// Depth (mm below the water phantom's surface) where the dose along the
/// voxel column nearest the central axis falls to 80 % of its maximum.
fn axis_r80_mm(rt_dose: &Path) -> f64 {
    let d = ferrodose_rtio::read_rt_dose(rt_dose).unwrap().dose_gy;
    let g = d.grid();
    let c = g.patient_to_continuous(&ferrodose_grid::Point3::new(0.0, 0.0, 0.0));
    let (i, k) = (c[0].round() as usize, c[2].round() as usize);
    let column: Vec<(f64, f64)> = (0..g.shape()[1])
        .map(|j| {
            (
                g.voxel_centre(i, j, k).y + 150.0,
                f64::from(d.data()[g.index(i, j, k)]),
            )
        })
        .collect();
    let (peak, max) = column.iter().enumerate().fold(
        (0, 0.0),
        |b, (n, (_, v))| if *v > b.1 { (n, *v) } else { b },
    );
    let n = peak
        + column[peak..]
            .iter()
            .position(|(_, v)| *v < 0.8 * max)
            .unwrap();
    let ((z0, d0), (z1, d1)) = (column[n - 1], column[n]);
    z0 + (d0 - 0.8 * max) / (d0 - d1) * (z1 - z0)
}

/// Measured IDDs in the machine file replace the generated ones: "measured"
/// curves that are ferrodose's own shifted 3 mm deeper move the single spot's
/// distal R80 on the central axis by 3 mm (within 0.5 mm, on a 2.5 mm grid),
/// and a spot at an energy without a measured curve is refused.
#[test]
fn run_uses_measured_idds_from_the_machine_file() {
    let dir = tempfile::tempdir().unwrap();
    let energies = [140.0, 150.0, 160.0];
    let model = ferrodose_pencil::IonBaseData::protons(&energies, |_| 0.008, 0.1).unwrap();
    let mut csv = String::from(
        "# the model's IDDs shifted 3 mm deeper (MeV cm2/g per proton)\ndepth_mm,140,150,160\n",
    );
    for step in 0..440 {
        let z = f64::from(step) * 0.5;
        let x = ((z - 3.0).max(0.0) / model.depth_step_mm) as usize;
        let row: Vec<String> = (0..energies.len())
            .map(|r| {
                format!(
                    "{}",
                    model.idd[r * model.n_depth + x.min(model.n_depth - 1)]
                )
            })
            .collect();
        csv += &format!("{z},{}\n", row.join(","));
    }
    std::fs::write(dir.path().join("idd.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("nozzle.toml"),
        "name = \"measured nozzle\"\nparticle = \"proton\"\nenergy = [70.0, 230.0]\nsigma_air_mm = [4.0, 4.0]\nenergy_spread_pct = [0.8, 0.8]\nidd_csv = \"idd.csv\"\n",
    )
    .unwrap();
    let base = std::fs::read_to_string(example("proton_spot_water.toml")).unwrap();
    let with_machine = base.replace(
        "modality = \"proton\"",
        "modality = \"proton\"\nmachine = \"nozzle.toml\"",
    );
    let (_, out) = run_plan_text(dir.path(), &with_machine);
    let shift = axis_r80_mm(&out.join("spot150/RTDOSE_physical.dcm"))
        - axis_r80_mm(&generic_spot_dose(dir.path()));
    assert!((shift - 3.0).abs() < 0.5, "R80 moved by {shift} mm");

    assert_run_refused(
        dir.path(),
        &with_machine.replace("energy = 150.0", "energy = 155.0"),
        "155 is not one of the energies of the machine's measured IDDs ('measured nozzle'",
    );
}

/// The demo end to end (issue 6), coarse: 5 mm grid, 60 iterations, so that
/// CI runs it in a few minutes. Automatic spots, beamlets and optimisation of
/// the three liver plans (issues 4 and 5), outputs' structure, target
/// coverage.
#[test]
fn demo_compares_three_modalities_on_the_liver_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = ferrodose(&[
        "demo",
        "--out",
        out.to_str().unwrap(),
        "--grid-mm",
        "5",
        "--iterations",
        "60",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    for plan in ["photon_imrt", "proton_2beams", "carbon_2beams"] {
        let line = t
            .lines()
            .find(|l| l.starts_with(&format!("plan '{plan}'")))
            .unwrap_or_else(|| panic!("no summary for {plan}: {t}"));
        let number_after = |key: &str| -> f64 {
            line.split(key)
                .nth(1)
                .unwrap()
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let (d95, d2) = (number_after("D95 "), number_after("D2 "));
        eprintln!("coarse liver plan {plan}: D95 {d95} %, D2 {d2} %");
        // Issue 5's photon limit, D2 ≤ 110 %, for all three even on this
        // coarse grid: 108.1 % (photon), 108.1 % (proton), 106.5 % (carbon)
        // on 2026-12-07 (docs/photon.md).
        assert!(d95 > 99.9 && d2 < 110.0, "{line}");
        let dir = out.join(plan);
        let physical = ferrodose_rtio::read_rt_dose(&dir.join("RTDOSE_physical.dcm")).unwrap();
        // No dose is reported in the air around the patient.
        assert_eq!(*physical.dose_gy.get(0, 0, 0), 0.0);
        let unit = if plan == "photon_imrt" {
            assert!(!dir.join("RTDOSE_rbe.dcm").exists() && !dir.join("LETd.mha").exists());
            "Gy"
        } else {
            let rbe = ferrodose_rtio::read_rt_dose(&dir.join("RTDOSE_rbe.dcm")).unwrap();
            // RBE 1.1 for protons; the carbon RBE at the maximum lies well above it.
            let ratio = rbe.dose_gy.min_max().1 / physical.dose_gy.min_max().1;
            if plan == "proton_2beams" {
                assert!((ratio - 1.1).abs() < 1e-3, "{ratio}");
            } else {
                assert!((1.5..3.5).contains(&ratio), "{ratio}");
            }
            let letd = std::fs::read(dir.join("LETd.mha")).unwrap();
            let voxels = physical.dose_gy.grid().len();
            assert!(letd.len() > 4 * voxels && letd.starts_with(b"ObjectType = Image"));
            "Gy(RBE)"
        };
        // metrics.json: the target's D95 is the summary line's (both are
        // taken on the CT grid) and the prescription (the plan is normalised
        // to D95 = 100 % there).
        let m: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("metrics.json")).unwrap()).unwrap();
        assert_eq!(m["dose_unit"], unit);
        let ptv = m["structures"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "PTV")
            .unwrap();
        let d95_pct = 100.0 * ptv["d95_gy"].as_f64().unwrap() / 50.0;
        assert!((d95_pct - d95).abs() < 0.051, "{d95_pct} vs {d95}");
        assert!((d95_pct - 100.0).abs() < 0.01, "{d95_pct}");
        assert_eq!(m["constraints"].as_array().unwrap().len(), 3);
        let dvh = std::fs::read_to_string(dir.join("dvh.csv")).unwrap();
        let header = if unit == "Gy" {
            "dose_gy"
        } else {
            "dose_gy_rbe"
        };
        assert!(dvh.starts_with(&format!("structure,{header},volume_pct,volume_cc\n")));
        assert!(dvh
            .lines()
            .any(|l| l.starts_with("NormalLiver,0.0000,100.0000,")));
    }
    let c: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(c["plans"].as_array().unwrap().len(), 3);
    // The report is one self-contained page: images embedded, all plans, 3 cuts each.
    let report = std::fs::read_to_string(out.join("report.html")).unwrap();
    for plan in ["photon_imrt", "proton_2beams", "carbon_2beams"] {
        assert!(report.contains(plan), "{plan}");
    }
    assert_eq!(report.matches("data:image/png;base64,").count(), 9);
    assert!(report.contains("<polyline") && !report.contains("src=\"http"));
    assert!(
        t.contains("normal liver V20 (%)") && t.contains("Paddick CI"),
        "{t}"
    );

    // `ferrodose dvh` on the written dose and CT gives the same PTV D95.
    let rbe = out.join("carbon_2beams/RTDOSE_rbe.dcm");
    let o = ferrodose(&[
        "dvh",
        rbe.to_str().unwrap(),
        out.join("ct").to_str().unwrap(),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let m: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(m["dose_unit"], "Gy(RBE)");
    // A dose on another frame of reference is refused, naming both.
    let tg119 = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tg119/dicom");
    let o = ferrodose(&["dvh", rbe.to_str().unwrap(), tg119.to_str().unwrap()]);
    assert!(
        !o.status.success() && text(&o).contains("Frame of Reference"),
        "{}",
        text(&o)
    );
    // A bad demo setting is refused naming it.
    let o = ferrodose(&[
        "demo",
        "--out",
        out.join("x").to_str().unwrap(),
        "--grid-mm",
        "0",
    ]);
    assert!(
        !o.status.success() && text(&o).contains("dose.grid_mm"),
        "{}",
        text(&o)
    );
}

/// `ferrodose bench` runs both paths on a tiny case and checks their parity,
/// and runs the TG-119 photon beamlet and proton spot cases (the optimiser on
/// the single-Gaussian and on the halo spot matrix).
#[test]
fn bench_runs_and_checks_parity() {
    let o = ferrodose(&[
        "bench",
        "--device",
        "cpu",
        "--spots",
        "20",
        "--grid-mm",
        "10",
        "--repeat",
        "1",
        "--iterations",
        "20",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("pairs/s") && t.contains("CPU (rayon"), "{t}");
    assert!(t.contains("one 6 MV arc of 18 control points"), "{t}");
    assert!(
        t.contains("2 full 6 MV arcs, 180 control points")
            && t.contains("control-point influence matrix"),
        "{t}"
    );
    // The ion kernel, the CPU path over each spot's reach, the photon kernel.
    assert_eq!(t.matches("pairs/s").count(), 3, "{t}");
    assert!(t.contains("each spot's reach only (as `run`)"), "{t}");
    // The TG-119 cases (the CORT data lie beside the checkout, as in CI).
    assert!(
        t.contains("TG-119, 7 coplanar 6 MV beams") && t.contains("beamlet influence matrix"),
        "{t}"
    );
    assert!(
        t.contains("TG-119, 3 proton beams")
            && t.contains("20 iterations, single-Gaussian spot matrix")
            && t.contains("20 iterations, spot matrix"),
        "{t}"
    );
    let o = ferrodose(&["bench", "--device", "tpu"]);
    assert!(!o.status.success() && text(&o).contains("expected cpu, gpu or all"));
}

/// The photon liver example without its arcs, on a 6 mm grid with 40
/// iterations: a plan head that the photon tests complete with beams.
fn coarse_liver_photon_plan() -> String {
    let example_text = std::fs::read_to_string(example("liver_photon_vmat.toml")).unwrap();
    let head = &example_text[..example_text
        .find("[[plan.arc]]")
        .expect("the example has arcs")];
    let coarse = head
        .replace("grid_mm = 3.0", "grid_mm = 6.0")
        .replace("iterations = 300", "iterations = 40");
    assert!(coarse.contains("grid_mm = 6.0"), "example changed");
    coarse
}

/// Writes `plan_text` to `dir/NAME.toml` and runs it into `dir/NAME`.
fn run_written_plan(dir: &Path, name: &str, plan_text: &str) -> (Output, std::path::PathBuf) {
    let plan = dir.join(format!("{name}.toml"));
    std::fs::write(&plan, plan_text).unwrap();
    let out = dir.join(name);
    let o = ferrodose(&[
        "run",
        plan.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    (o, out)
}

/// Runs `ferrodose run` on plan text written to `dir`; its output text (it
/// must have succeeded) and its output directory.
fn run_plan_text(dir: &std::path::Path, plan_text: &str) -> (String, std::path::PathBuf) {
    let (o, out) = run_written_plan(dir, "out", plan_text);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    (t, out)
}

/// The summary line of the photon plan in `ferrodose run`'s output `t`.
fn photon_summary(t: &str) -> &str {
    t.lines()
        .find(|l| l.starts_with("plan 'photon_vmat'"))
        .unwrap_or_else(|| panic!("no summary: {t}"))
}

/// A coarse photon VMAT plan (the liver example with one arc of 10° control
/// points on a 6 mm grid) runs end to end: MU optimised, normalised to PTV
/// D95 = 100 %, an RT Dose of physical dose and no RBE or LET files.
#[test]
fn run_photon_arc_plan_on_the_liver_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let text_plan = coarse_liver_photon_plan()
        + "[[plan.arc]]\nstart_deg = 181\nstop_deg = 359\nspacing_deg = 10\nisocentre = \"target\"\n";
    let (t, out) = run_plan_text(dir.path(), &text_plan);
    let line = photon_summary(&t);
    assert!(
        line.contains("18 control points") && line.contains("D95 100.0 %"),
        "{line}"
    );
    let dose_dir = out.join("photon_vmat");
    let physical = ferrodose_rtio::read_rt_dose(&dose_dir.join("RTDOSE_physical.dcm")).unwrap();
    assert_eq!(physical.dose_type, ferrodose_rtio::DoseType::Physical);
    let max = physical.dose_gy.min_max().1;
    assert!(max > 50.0 && max < 80.0, "max {max} Gy");
    assert!(!dose_dir.join("RTDOSE_rbe.dcm").exists());
    assert!(!dose_dir.join("LETd.mha").exists());
}

/// The same arc on the built-in 10 MV FFF machine, named in the plan
/// (`machine = "generic_10mv_fff"`, control points every 30°): it runs, is
/// normalised to D95 = 100 % and names its machine in the summary and in
/// metrics.json; a machine name that is neither built in nor a file is
/// refused, naming it.
#[test]
fn run_photon_arc_on_the_builtin_10mv_fff_machine() {
    let dir = tempfile::tempdir().unwrap();
    let head = coarse_liver_photon_plan();
    let arc =
        "[[plan.arc]]\nstart_deg = 181\nstop_deg = 359\nspacing_deg = 30\nisocentre = \"target\"\n";
    let with_machine = |name: &str| {
        head.replace(
            "modality = \"photon\"\n",
            &format!("modality = \"photon\"\nmachine = \"{name}\"\n"),
        ) + arc
    };
    let (t, out) = run_plan_text(dir.path(), &with_machine("generic_10mv_fff"));
    let line = photon_summary(&t);
    assert!(
        line.contains("(generic 10 MV FFF), 6 control points") && line.contains("D95 100.0 %"),
        "{line}"
    );
    let metrics = std::fs::read_to_string(out.join("photon_vmat/metrics.json")).unwrap();
    assert!(
        metrics.contains("\"machine\": \"generic 10 MV FFF\""),
        "{metrics}"
    );
    let (o, _) = run_written_plan(dir.path(), "unknown", &with_machine("generic_6mv_fff"));
    assert!(
        !o.status.success() && text(&o).contains("generic_6mv_fff"),
        "{}",
        text(&o)
    );
}

/// Fluence optimisation of 5 static 6 MV beams on the liver phantom (6 mm
/// grid, 40 iterations, 5 intensity levels): beamlets, sequencing into
/// step-and-shoot segments (each a valid aperture), the sequencing report, an
/// RT Dose normalised to D95 = 100 %.
#[test]
fn run_photon_fluence_plan_on_the_liver_phantom() {
    let dir = tempfile::tempdir().unwrap();
    let mut text_plan =
        coarse_liver_photon_plan() + "[plan.fluence]\nbeamlet_mm = 5.0\nlevels = 5\n";
    for g in [0, 72, 144, 216, 288] {
        text_plan += &format!("[[plan.beam]]\ngantry_deg = {g}\nisocentre = \"target\"\n");
    }
    let (t, out) = run_plan_text(dir.path(), &text_plan);
    assert!(t.contains("beamlets of 5 mm in 5 directions"), "{t}");
    let report = t
        .lines()
        .find(|l| l.contains("segments (5 levels) in the target against the optimised fluence"))
        .unwrap_or_else(|| panic!("no sequencing report: {t}"));
    let line = photon_summary(&t);
    assert!(line.contains("D95 100.0 %"), "{line}\n{report}");
    // Segment-weight optimisation brings the segments' dose closer to the
    // optimised fluence's than the sequencing alone.
    let departures: Vec<f64> = report
        .split("mean |Δ| ")
        .skip(1)
        .map(|x| x.split(' ').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        departures.len() == 2 && departures[1] < departures[0],
        "{report}"
    );
    let physical =
        ferrodose_rtio::read_rt_dose(&out.join("photon_vmat/RTDOSE_physical.dcm")).unwrap();
    let max = physical.dose_gy.min_max().1;
    assert!(max > 50.0 && max < 80.0, "max {max} Gy");
}
