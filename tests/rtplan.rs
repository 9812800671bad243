//! Recalculation of DICOM RT Plans and RT Ion Plans made by another program:
//! the pydicom-built fixtures of `tests/fixtures/rtplan` (generator
//! `make_fixtures.py` beside them) and pydicom's own test plan.

mod common;

use ferrodose_gpu::Backend;
use ferrodose_grid::{BeamGeometry, PatientPosition, Point3, Volume};
use ferrodose_photon::{Aperture, ControlPoint, PhotonEngine, PhotonMachine};
use ferrodose_rtio::{read_rt_dose, Study};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rtplan")
}

fn ferrodose(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrodose"))
        .args(args)
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string() + &String::from_utf8_lossy(&o.stderr)
}

/// `ferrodose recalc FILE --ct fixtures/ct` on the CPU at 5 mm; the output
/// directory and the command's result.
fn recalc(file: &str, extra: &[&str]) -> (tempfile::TempDir, Output) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("out");
    let f = fixtures();
    let mut args = vec![
        "recalc".to_owned(),
        f.join(file).display().to_string(),
        "--ct".into(),
        f.join("ct").display().to_string(),
        "--out".into(),
        dir.display().to_string(),
        "--grid-mm".into(),
        "5".into(),
        "--device".into(),
        "cpu".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = ferrodose(&refs);
    (out, o)
}

/// The control points RP_photon.dcm describes, written out by hand: a
/// 40-pair MLC of 10 mm leaves; beam 1 gantry 0, 100 × 100 mm, 100 MU; beam 2
/// an arc 80° → 100° as two 30 MU segments at 85° and 95°, 60 × 60 mm.
fn photon_plan_by_hand() -> (PhotonMachine, Vec<ControlPoint>) {
    let mut m = PhotonMachine::generic_6mv();
    m.leaf_boundaries_mm = (0..=40).map(|i| -200.0 + 10.0 * i as f64).collect();
    let field = |half: f64| {
        let leaves = (0..40)
            .map(|p| {
                let (lo, hi) = (m.leaf_boundaries_mm[p], m.leaf_boundaries_mm[p + 1]);
                if lo >= -half && hi <= half {
                    [-half, half]
                } else {
                    [0.0, 0.0]
                }
            })
            .collect();
        Aperture {
            jaw_x_mm: [-half, half],
            jaw_y_mm: [-half, half],
            leaves_mm: leaves,
        }
    };
    let cp = |gantry: f64, half: f64, mu: f64| ControlPoint {
        geometry: BeamGeometry::coplanar(gantry, Point3::origin(), PatientPosition::Hfs),
        aperture: field(half),
        mu,
    };
    let cps = vec![
        cp(0.0, 50.0, 100.0),
        cp(85.0, 30.0, 30.0),
        cp(95.0, 30.0, 30.0),
    ];
    (m, cps)
}

/// The largest |RT Dose − 2 × native dose| (Gy) inside the water box, and
/// the RT Dose's maximum: the recalculated RT Plan RP_photon in `dir` against
/// the plan built by hand (`photon_plan_by_hand`) on `machine`, 2 fractions.
fn against_native(dir: &Path, machine: &PhotonMachine) -> (f32, f32) {
    let rt = read_rt_dose(&dir.join("out/RP_photon/RTDOSE_physical.dcm")).unwrap();
    let study = Study::load(&fixtures().join("ct")).unwrap();
    let density = study
        .ct
        .hu
        .map(|hu| ferrodose_physics::calibration::relative_electron_density(f64::from(*hu)) as f32);
    let native = PhotonEngine::new(machine, &density)
        .dose(
            &photon_plan_by_hand().1,
            rt.dose_gy.grid(),
            &Backend::Cpu { reason: None },
        )
        .unwrap();
    let hu_on_grid = study.ct.hu.resample(rt.dose_gy.grid(), -1000.0);
    let mut worst = 0.0f32;
    for ((r, n), hu) in rt
        .dose_gy
        .data()
        .iter()
        .zip(native.data())
        .zip(hu_on_grid.data())
    {
        if *hu > -500.0 {
            worst = worst.max((r - 2.0 * n).abs());
        }
    }
    (worst, rt.dose_gy.min_max().1)
}

/// The recalculated RT Plan equals the same plan built by hand with the
/// photon engine (× 2 fractions) inside the water box, within 0.2 % of the
/// maximum (RT Dose quantisation), and each beam's entrance side (gantry 0:
/// anterior, −y; gantry 85–95°: the patient's left, +x) receives more dose
/// than its exit side.
#[test]
fn photon_rt_plan_recalculates_like_the_same_plan_built_natively() {
    let (dir, o) = recalc("RP_photon.dcm", &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("3 segments, 160.0 MU per fraction, 2 fractions"),
        "{out}"
    );
    let (worst, max) = against_native(dir.path(), &photon_plan_by_hand().0);
    assert!(worst <= 2e-3 * max, "worst {worst} Gy of {max} Gy");
    let rt = read_rt_dose(&dir.path().join("out/RP_photon/RTDOSE_physical.dcm")).unwrap();
    let at = |v: &Volume<f32>, p: [f64; 3]| v.sample_trilinear(&Point3::from(p)).unwrap();
    let d = &rt.dose_gy;
    assert!(at(d, [0.0, -80.0, 0.0]) > 1.2 * at(d, [0.0, 80.0, 0.0]));
    assert!(at(d, [80.0, 0.0, 0.0]) > 1.2 * at(d, [-80.0, 0.0, 0.0]));
}

/// `recalc --machine` with a photon machine file: 5 % leaf transmission and a
/// 3 mm source σ (the generic file edited) give the plan built by hand on
/// that machine within 0.2 % of the maximum, and not the generic machine's
/// dose; a 10 MV file is refused naming the file and key.
#[test]
fn photon_rt_plan_uses_the_machine_file() {
    let tmp = tempfile::tempdir().unwrap();
    let generic = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/photon/machines/generic_6mv.toml"),
    )
    .unwrap();
    let edited = generic
        .replace("leaf_transmission_pct = 1.5", "leaf_transmission_pct = 5.0")
        .replace("source_sigma_mm = 1.5", "source_sigma_mm = 3.0");
    let linac = tmp.path().join("linac.toml");
    std::fs::write(&linac, &edited).unwrap();
    let (dir, o) = recalc("RP_photon.dcm", &["--machine", linac.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    let mut machine = PhotonMachine::parse(&edited, "linac.toml").unwrap();
    machine.leaf_boundaries_mm = photon_plan_by_hand().0.leaf_boundaries_mm;
    let (worst, max) = against_native(dir.path(), &machine);
    assert!(worst <= 2e-3 * max, "worst {worst} Gy of {max} Gy");
    let (generic_worst, _) = against_native(dir.path(), &photon_plan_by_hand().0);
    assert!(
        generic_worst > 1e-2 * max,
        "the machine file changed nothing"
    );
    std::fs::write(&linac, generic.replace("beam = \"6MV\"", "beam = \"10MV\"")).unwrap();
    let (_, o) = recalc("RP_photon.dcm", &["--machine", linac.to_str().unwrap()]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("linac.toml: beam: '10MV'"),
        "{}",
        text(&o)
    );
}

/// An RT Plan of 10 MV beams in the FFF fluence mode (Primary Fluence Mode
/// NON_STANDARD, ID "FFF") recalculates on the built-in 10 MV FFF machine
/// without `--machine`: the plan built by hand on that machine within 0.2 %
/// of the maximum, and not the 6 MV machine's dose. The same plan at 6 MV FFF
/// (no such beam) is refused naming the beam, its energy and mode.
#[test]
fn photon_fff_rt_plan_recalculates_on_the_10mv_fff_machine() {
    let (dir, o) = recalc("RP_photon_10fff.dcm", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 beams (generic 10 MV FFF)"),
        "{}",
        text(&o)
    );
    let layout = photon_plan_by_hand().0.leaf_boundaries_mm;
    let mut machine = PhotonMachine::generic_10mv_fff();
    machine.leaf_boundaries_mm = layout;
    // The fixture keeps RP_photon's label, which names the output folder.
    let (worst, max) = against_native(dir.path(), &machine);
    assert!(worst <= 2e-3 * max, "worst {worst} Gy of {max} Gy");
    let (six_mv, _) = against_native(dir.path(), &photon_plan_by_hand().0);
    assert!(
        six_mv > 1e-2 * max,
        "the 6 MV machine's dose: {six_mv} of {max} Gy"
    );
    let (_, o) = recalc("RP_photon_6fff.dcm", &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("beam 1 ('AP 10x10'): 6 MV FFF; the machine 'generic 6 MV' is 6 MV"),
        "{}",
        text(&o)
    );
}

/// An RT Ion Plan recalculates to the same dose as its spots listed in a plan
/// file (`proton_spots.toml`, written by the same generator): physical and
/// RBE-weighted dose within 0.1 % of the maximum.
#[test]
fn proton_rt_ion_plan_equals_its_spots_listed_in_a_plan_file() {
    let (dir, o) = recalc("RP_proton.dcm", &[]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("2 energy layers, 18 spots"),
        "{}",
        text(&o)
    );
    let listed = dir.path().join("listed");
    let toml = fixtures().join("proton_spots.toml");
    let o = ferrodose(&[
        "run",
        toml.to_str().unwrap(),
        "--out",
        listed.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for file in ["RTDOSE_physical.dcm", "RTDOSE_rbe.dcm"] {
        let a = read_rt_dose(&dir.path().join("out/RP_proton").join(file)).unwrap();
        let b = read_rt_dose(&listed.join("listed").join(file)).unwrap();
        assert!(a.dose_gy.grid().same_as(b.dose_gy.grid(), 1e-6));
        let max = a.dose_gy.min_max().1;
        assert!(max > 1.0, "{file}: max {max} Gy");
        let worst = a
            .dose_gy
            .data()
            .iter()
            .zip(b.dose_gy.data())
            .fold(0.0f32, |w, (x, y)| w.max((x - y).abs()));
        assert!(worst <= 1e-3 * max, "{file}: worst {worst} of {max}");
    }
}

/// What ferrodose cannot model or cannot place is refused, naming it: a
/// wedge; a carbon plan in MU without a particles-per-MU calibration (and
/// accepted with one); a DICOM file that is not a plan; pydicom's test plan,
/// whose isocentre lies outside this CT; a plan file whose modality or
/// fraction count contradicts the RT Plan.
#[test]
fn recalc_refuses_what_it_cannot_model() {
    let (_d, o) = recalc("RP_wedge.dcm", &[]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("beam 1 ('AP 10x10'): has 1 wedges"),
        "{}",
        text(&o)
    );

    let (_d, o) = recalc("RP_carbon_mu.dcm", &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("particles_per_mu"), "{}", text(&o));
    let (d, o) = recalc("RP_carbon_mu.dcm", &["--particles-per-mu", "1e7"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(d.path().join("out/RP_carbon_mu/RTDOSE_rbe.dcm").exists());

    let (_d, o) = recalc("ct/CT.000.dcm", &[]);
    assert!(!o.status.success());
    assert!(text(&o).contains("is not an RT Plan"), "{}", text(&o));

    if common::python_has("pydicom", "FERRODOSE_REQUIRE_PYDICOM") {
        let p = Command::new("python3")
            .args([
                "-c",
                "from pydicom.data import get_testdata_file as g; print(g('rtplan.dcm'))",
            ])
            .output()
            .unwrap();
        let original = String::from_utf8_lossy(&p.stdout).trim().to_owned();
        let (_d, o) = recalc(&original, &[]);
        assert!(!o.status.success());
        assert!(
            text(&o)
                .contains("beam 1: the isocentre (235.7, 244.1, -725.0) mm lies outside the CT"),
            "{}",
            text(&o)
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let write = |body: &str, modality: &str| {
        let path = dir.path().join("plan.toml");
        let rp = fixtures().join("RP_photon.dcm");
        let ct = fixtures().join("ct");
        std::fs::write(
            &path,
            format!(
                "[ct]\ndicom = {:?}\n{body}\n[[plan]]\nname = \"p\"\nmodality = \"{modality}\"\nrtplan = {:?}\n",
                ct.display().to_string(),
                rp.display().to_string()
            ),
        )
        .unwrap();
        let out = dir.path().join("out");
        ferrodose(&[
            "run",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = write("", "proton");
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the plan file says modality = \"proton\""),
        "{}",
        text(&o)
    );
    let rx = "[prescription]\ntarget = \"PTV\"\ndose_gy = 10.0\nfractions = 5\n";
    let o = write(rx, "photon");
    assert!(!o.status.success());
    assert!(
        text(&o).contains("2 fractions planned, the prescription says 5"),
        "{}",
        text(&o)
    );
}
