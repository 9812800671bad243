//! `ferrodose bench`: throughput of the ion and photon pencil-beam dose
//! kernels on the CPU twin and on the GPU, with a GPU-against-CPU parity check, on the built-in
//! liver phantom (self-contained, so that it runs on any machine).

use super::calibrated;
use ferrodose_gpu::{Backend, CompressedRows, DevicePreference, IonPbDose};
use ferrodose_grid::{BeamGeometry, Grid, Mask, Point3, Volume};
use ferrodose_optimise::{optimise, uniform_start, InfluenceMatrix};
use ferrodose_pencil::{
    distinct_energies, dose_by_segments, influence_matrix, influence_matrix_coarse_tail,
    place_spots, BeamSpots, IonBaseData, PencilBeamEngine, PlacementSettings, TAIL_LATTICE_MM,
};
use ferrodose_photon::{
    arc_control_points, lateral_cutoff_mm, ArcSettings, BeamletField, PhotonEngine, PhotonMachine,
    TargetPoints, BEAMLET_DOSE_THRESHOLD,
};
use ferrodose_physics::calibration::{relative_electron_density, relative_stopping_power};
use ferrodose_physics::{Ion, Material, RangeTable};
use ferrodose_plan::{IonMachine, Modality};
use ferrodose_rtio::Study;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Args {
    /// Which backends to time: cpu, gpu or all.
    #[arg(long, default_value = "all")]
    device: String,
    /// Use at most this many spots (every k-th placed spot), to keep software GPUs quick.
    #[arg(long, default_value_t = 1000)]
    spots: usize,
    /// Dose grid spacing (mm).
    #[arg(long, default_value_t = 5.0)]
    grid_mm: f64,
    /// Timed repetitions per backend (after one warm-up run).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// The TG-119 CT and RT Structure Set (CORT); its photon beamlet and
    /// proton spot cases are skipped when the directory does not exist.
    #[arg(long, default_value = "../shared/data/tg119/dicom")]
    tg119: PathBuf,
    /// Spacing (mm) of the lattice that holds the protons' nuclear halo in
    /// the TG-119 spot matrix (as `dose.ion_tail_lattice_mm` of a plan).
    #[arg(long, default_value_t = TAIL_LATTICE_MM)]
    halo_lattice_mm: f64,
    /// Optimiser iterations of the TG-119 proton case.
    #[arg(long, default_value_t = 300)]
    iterations: usize,
    /// Which cases to run: all, liver (the liver phantom's dose kernels and
    /// arcs), tg119-photon (the beamlet matrix) or tg119-proton (the spot
    /// matrix and optimiser).
    #[arg(long, default_value = "all")]
    case: String,
}

/// The TG-119 case (Craft et al., GigaScience 2014) on a `grid_mm` dose grid:
/// the OuterTarget on the CT grid, every BODY voxel of the dose grid, and the
/// target's centroid as isocentre.
struct Tg119 {
    study: Study,
    target: Mask,
    grid: Grid,
    body_rows: Vec<u32>,
    iso: Point3<f64>,
}

impl Tg119 {
    fn load(dir: &Path, grid_mm: f64) -> Result<Self, super::Error> {
        let study = Study::load(dir)?;
        let structures = study
            .structures
            .as_ref()
            .ok_or("TG-119: no RT Structure Set")?;
        let target = structures.get("OuterTarget")?.mask.clone();
        let ct = study.ct.hu.grid();
        let shape = [0, 1, 2]
            .map(|a| ((ct.shape()[a] - 1) as f64 * ct.spacing_mm()[a] / grid_mm) as usize + 1);
        let grid = Grid::axial(shape, [grid_mm; 3], ct.origin_mm())?;
        let body_rows = structures
            .get("BODY")?
            .mask
            .resample_nearest(&grid)
            .voxel_indices();
        let iso = target.centroid_mm().ok_or("TG-119: empty OuterTarget")?;
        Ok(Self {
            study,
            target,
            grid,
            body_rows,
            iso,
        })
    }

    fn geometry(&self, gantry_deg: f64) -> BeamGeometry {
        BeamGeometry::coplanar(gantry_deg, self.iso, self.study.ct.info.patient_position)
    }
}

/// Prints the time of an influence-matrix build and its entries per second.
/// How matrix `b` departs from `a` (same columns): entries only one of
/// them holds (near the lateral cut-off, where f32 rounding on another
/// device can move a voxel across it) and the largest difference of a
/// voxel's dose, relative to `a`'s largest entry.
fn matrix_difference(a: &InfluenceMatrix, b: &InfluenceMatrix) -> String {
    fn parts(m: &InfluenceMatrix) -> Vec<&CompressedRows> {
        let mut p = vec![&m.by_column];
        p.extend(m.coarse.as_ref().map(|c| &c.by_column));
        p
    }
    let (mut only_one, mut largest) = (0, 0.0f32);
    for (x, y) in parts(a).into_iter().zip(parts(b)) {
        let d = x.difference(y);
        only_one += d.only_one;
        largest = largest.max(d.largest / d.largest_entry);
    }
    format!(
        "vs the first backend: {} vs {} entries, {only_one} in one only, largest difference {largest:.1e} of the largest entry",
        a.nnz(),
        b.nnz(),
    )
}

fn print_matrix_time(backend: &Backend, seconds: f64, entries: usize, of: &str) {
    println!(
        "{:<60} {:>9.3} s {:>12.3e} entries/s ({of} influence matrix)",
        backend.describe(),
        seconds,
        entries as f64 / seconds
    );
}

/// TG-119: the 7-beam 6 MV beamlet influence matrix of the IMRT benchmark
/// (gantry 0°, 51°, 103°, 154°, 206°, 257°, 309°; 5 mm beamlets over the
/// OuterTarget; every BODY voxel), built on each of `backends` (best of
/// `repeat`); prints beamlets, entries, size, the times and how each
/// backend's matrix departs from the first's.
fn tg119_beamlet_matrix(
    case: &Tg119,
    repeat: usize,
    backends: &[Backend],
) -> Result<(), super::Error> {
    let cpu = Backend::Cpu { reason: None };
    let density = calibrated(&case.study.ct.hu, relative_electron_density, &cpu)?;
    let machine = PhotonMachine::generic_6mv();
    let points = TargetPoints::new(&case.target)?;
    let engine = PhotonEngine::new(&machine, &density);
    let cutoff = lateral_cutoff_mm(&machine, 2.5, BEAMLET_DOSE_THRESHOLD);
    let mut first: Option<InfluenceMatrix> = None;
    for backend in backends {
        let mut best = f64::MAX;
        let mut last = None;
        for _ in 0..repeat.max(1) {
            let t = Instant::now();
            let fields = [0.0, 51.0, 103.0, 154.0, 206.0, 257.0, 309.0]
                .iter()
                .map(|g| BeamletField::conformal(&machine, &case.geometry(*g), &points, 0.0, 5.0))
                .collect::<Result<Vec<_>, _>>()?;
            let a = engine.beamlet_matrix(&fields, &case.grid, &case.body_rows, cutoff, backend)?;
            best = best.min(t.elapsed().as_secs_f64());
            last = Some(a);
        }
        let a = last.expect("at least one repetition");
        if first.is_none() {
            println!(
                "case: TG-119, 7 coplanar 6 MV beams, {} beamlets of 5 mm, {} BODY voxels of {} mm, cut-off {cutoff} mm: {} entries ({:.0} MB)",
                a.n_columns(),
                case.body_rows.len(),
                case.grid.spacing_mm()[0],
                a.nnz(),
                a.bytes() as f64 / 1e6
            );
        }
        print_matrix_time(backend, best, a.nnz(), "beamlet");
        match &first {
            Some(f) => println!("  {}", matrix_difference(f, &a)),
            None => first = Some(a),
        }
    }
    Ok(())
}

/// The generic proton nozzle (70–230 MeV, σ in air 4 mm, σ_E/E 0.8 %).
fn generic_protons() -> IonMachine {
    IonMachine::generic(Modality::Proton).expect("an ion modality")
}

/// The benchmarks' proton beams: gantry 0°, 120° and 240° (`geometry` of
/// each angle), parallel rays, spots placed on `target` for the generic
/// proton nozzle (its range and its σ in air, 4 mm).
fn three_proton_beams(
    target: &Mask,
    rsp: &Volume<f32>,
    table: &RangeTable,
    settings: &PlacementSettings,
    geometry: impl Fn(f64) -> BeamGeometry,
) -> Vec<BeamSpots> {
    let machine = generic_protons();
    [0.0, 120.0, 240.0]
        .iter()
        .map(|&g| {
            let geometry = geometry(g);
            let placed = place_spots(
                target,
                rsp,
                &geometry,
                table,
                &|e| machine.deliverable(e),
                settings,
            );
            BeamSpots {
                geometry,
                sigma_air_mm: machine.min_sigma_air_mm(),
                virtual_source_mm: None,
                spots: placed.spots,
            }
        })
        .collect()
}

/// TG-119: the proton benchmark of issue 4: 3 beams (gantry 0°, 120°, 240°),
/// spots on a 5 mm lateral grid in 3 mm energy layers over the OuterTarget
/// (σ in air 4 mm, parallel rays), the influence matrix over every BODY voxel
/// and `iterations` optimiser iterations with the target's objectives (2 Gy
/// per fraction), on each of `backends` (the optimiser on the first's
/// matrix): with one Gaussian per spot, with the nuclear halo on a lattice
/// of `halo_lattice_mm`, and with the halo on the dose grid; prints spots,
/// entries, size, the times, how each backend's matrix departs from the
/// first's and how far A·w with the halo on the lattice departs from A·w
/// with the halo on the dose grid.
fn tg119_proton_benchmark(
    case: &Tg119,
    iterations: usize,
    halo_lattice_mm: f64,
    backends: &[Backend],
) -> Result<(), super::Error> {
    let cpu = Backend::Cpu { reason: None };
    let rsp = calibrated(&case.study.ct.hu, relative_stopping_power, &cpu)?;
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0)?;
    let t = Instant::now();
    let settings = PlacementSettings {
        lateral_spacing_mm: 5.0,
        layer_spacing_mm: 3.0,
        ..PlacementSettings::for_spot_sigma(4.0)
    };
    let beams = three_proton_beams(&case.target, &rsp, &table, &settings, |g| case.geometry(g));
    let energies = distinct_energies(&beams);
    let machine = generic_protons();
    let base = IonBaseData::protons(&energies, |e| machine.energy_spread(e), 0.1)?;
    let setup_s = t.elapsed().as_secs_f64();
    let mut keep = vec![false; case.grid.len()];
    for v in &case.body_rows {
        keep[*v as usize] = true;
    }
    println!(
        "case: TG-119, 3 proton beams, {} spots (5 mm lateral, 3 mm layers, {} energies), {} BODY voxels of {} mm; spot placement and base data {setup_s:.1} s",
        beams.iter().map(|b| b.spots.len()).sum::<usize>(),
        energies.len(),
        case.body_rows.len(),
        case.grid.spacing_mm()[0],
    );
    // First, on the first backend, one Gaussian per spot (the tail folded
    // into the core), for comparison with single-Gaussian engines; built and
    // dropped before the halo matrices, so that it is timed without them held.
    let single = base.without_tail();
    let t = Instant::now();
    let input =
        PencilBeamEngine::new(&single, &rsp).kernel_input(&beams, &case.grid, &backends[0])?;
    let a = influence_matrix(&input, &case.grid, &keep, &backends[0])?;
    println!(
        "  single Gaussian per spot (no nuclear halo): {} entries ({:.0} MB)",
        a.nnz(),
        a.bytes() as f64 / 1e6
    );
    let single_gaussian = "single-Gaussian spot";
    let seconds = t.elapsed().as_secs_f64();
    print_matrix_time(&backends[0], seconds, a.nnz(), single_gaussian);
    let target = case.target.resample_nearest(&case.grid).voxel_indices();
    time_optimiser(&a, &target, 2.0, iterations, backends, single_gaussian)?;
    drop(a);
    let engine = PencilBeamEngine::new(&base, &rsp);
    // The halo on a lattice of TAIL_LATTICE_MM (as `ferrodose run` builds
    // it), then on the dose grid itself, each on every backend.
    let lattice = format!("halo-on-{halo_lattice_mm}-mm-lattice spot");
    let mut on_lattice: Option<InfluenceMatrix> = None;
    for tail_mm in [halo_lattice_mm, 0.0] {
        let of = if tail_mm > 0.0 {
            lattice.as_str()
        } else {
            "spot"
        };
        let mut built: Vec<InfluenceMatrix> = Vec::new();
        for backend in backends {
            let t = Instant::now();
            let input = engine.kernel_input(&beams, &case.grid, backend)?;
            let input_s = t.elapsed().as_secs_f64();
            let a = influence_matrix_coarse_tail(&input, &case.grid, &keep, tail_mm, backend)?;
            let matrix_s = t.elapsed().as_secs_f64();
            if built.is_empty() {
                println!("  {}", matrix_layout(&a, tail_mm));
            }
            print_matrix_time(backend, matrix_s, a.nnz(), of);
            println!("  of which the spots' rays (WED and σ_MCS profiles): {input_s:.3} s");
            if let Some(first) = built.first() {
                println!("  {}", matrix_difference(first, &a));
            }
            built.push(a);
        }
        let a = built.swap_remove(0);
        drop(built);
        let weights = time_optimiser(&a, &target, 2.0, iterations, backends, of)?;
        match on_lattice.take() {
            None => on_lattice = Some(a),
            Some(lat) => {
                let relative = largest_difference(&lat.dose(&weights), &a.dose(&weights));
                println!(
                    "  A·w, halo on the lattice vs on the dose grid (these optimised weights, every BODY voxel): largest difference {relative:.2e} of the maximum dose"
                );
            }
        }
    }
    Ok(())
}

/// The largest |a − b| of two doses voxel by voxel, relative to `b`'s
/// maximum (0 where they agree, infinite where only `a` has dose).
fn largest_difference<T: Copy + Into<f64>>(a: &[T], b: &[T]) -> f64 {
    let max = b.iter().fold(0.0f64, |m, v| m.max((*v).into()));
    let worst = a
        .iter()
        .zip(b)
        .map(|(x, y)| ((*x).into() - (*y).into()).abs())
        .fold(0.0f64, f64::max);
    if worst == 0.0 {
        0.0
    } else {
        worst / max
    }
}

/// Entries and memory of an influence matrix, and of its halo lattice.
fn matrix_layout(a: &InfluenceMatrix, lattice_mm: f64) -> String {
    match &a.coarse {
        None => format!(
            "with the nuclear halo on the dose grid: {} entries ({:.0} MB)",
            a.nnz(),
            a.bytes() as f64 / 1e6
        ),
        Some(c) => {
            let mut used = vec![false; c.interpolation.n_cols];
            for n in &c.interpolation.col {
                used[*n as usize] = true;
            }
            format!(
                "with the nuclear halo on a {lattice_mm} mm lattice: {} core entries on the dose grid, {} halo entries on {} nodes ({:.0} MB with the interpolation)",
                a.by_column.nnz(),
                c.by_column.nnz(),
                used.iter().filter(|u| **u).count(),
                a.bytes() as f64 / 1e6
            )
        }
    }
}

/// Times `iterations` optimiser iterations of the target's objectives for
/// `goal_gy` per fraction (`run::target_objectives`), from uniform weights
/// that give the target's mean that dose, on each of `backends` (the
/// influence matrix, named `matrix` in the output, is uploaded once per
/// backend, not timed), and prints them with the objective's first and last
/// value; a second backend's final objective is compared with the first's
/// (f32 sums in another order can move the line search, so this is a check,
/// not bitwise parity). Returns the first backend's optimised weights.
fn time_optimiser(
    a: &InfluenceMatrix,
    target: &[u32],
    goal_gy: f64,
    iterations: usize,
    backends: &[Backend],
    matrix: &str,
) -> Result<Vec<f64>, super::Error> {
    let start = uniform_start(a, target, goal_gy);
    let objectives = super::run::target_objectives(target.to_vec(), goal_gy);
    let mut first: Option<(f64, Vec<f64>)> = None;
    for backend in backends {
        let t = Instant::now();
        let result = optimise(a, backend, &objectives, start.clone(), iterations, &|_| {})?;
        let seconds = t.elapsed().as_secs_f64();
        let last = result.history.last().copied().unwrap_or(f64::NAN);
        let against = match &first {
            Some((f, _)) => format!(
                "  final objective vs the first backend {:+.2e}",
                last / f - 1.0
            ),
            None => String::new(),
        };
        println!(
            "{:<60} {:>9.3} s {:>12} iterations, {matrix} matrix (objective {:.3e} → {last:.3e}){against}",
            backend.describe(),
            seconds,
            iterations,
            result.history.first().copied().unwrap_or(f64::NAN),
        );
        first.get_or_insert((last, result.weights));
    }
    Ok(first.map(|(_, w)| w).unwrap_or_default())
}

/// Issue 5's arc case: two full 6 MV arcs on the liver phantom (181° → 539°
/// clockwise and back, as in `examples/liver_photon_vmat.toml`, a control
/// point every 4°, apertures conformal to the
/// PTV plus 3 mm): the control-point influence matrix over every non-air
/// voxel of `grid` (relative electron density above 0.05), then `iterations`
/// MU iterations with the target's objectives (10 Gy per fraction). CPU.
fn liver_two_arcs(
    machine: &PhotonMachine,
    density: &Volume<f32>,
    ptv: &Mask,
    grid: &Grid,
    first_arc: BeamGeometry,
    iterations: usize,
    backends: &[Backend],
) -> Result<(), super::Error> {
    let cpu = Backend::Cpu { reason: None };
    let t = Instant::now();
    let mut cps = Vec::new();
    for (start_deg, stop_deg) in [(181.0, 539.0), (539.0, 181.0)] {
        let arc = ArcSettings {
            start_deg,
            stop_deg,
            spacing_deg: 4.0,
            margin_mm: 3.0,
        };
        let geometry = BeamGeometry {
            gantry_deg: start_deg,
            ..first_arc
        };
        cps.extend(arc_control_points(machine, &geometry, &arc, ptv)?);
    }
    let rows: Vec<u32> = density
        .resample(grid, 0.0)
        .data()
        .iter()
        .enumerate()
        .filter(|(_, d)| **d > 0.05)
        .map(|(n, _)| n as u32)
        .collect();
    let a = PhotonEngine::new(machine, density).control_point_matrix(&cps, grid, &rows, &cpu)?;
    let matrix_s = t.elapsed().as_secs_f64();
    let target = ptv.resample_nearest(grid).voxel_indices();
    println!(
        "case: liver phantom, 2 full 6 MV arcs, {} control points every 4°, {} non-air voxels of {} mm: {} entries ({:.0} MB)",
        cps.len(),
        rows.len(),
        grid.spacing_mm()[0],
        a.nnz(),
        a.bytes() as f64 / 1e6
    );
    print_matrix_time(&cpu, matrix_s, a.nnz(), "control-point");
    time_optimiser(&a, &target, 10.0, iterations, backends, "control-point")?;
    Ok(())
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let (want_cpu, want_gpu) = match args.device.as_str() {
        "cpu" => (true, false),
        "gpu" => (false, true),
        "all" => (true, true),
        other => return Err(format!("--device {other}: expected cpu, gpu or all").into()),
    };
    let cases = ["liver", "tg119-photon", "tg119-proton"];
    if args.case != "all" && !cases.contains(&args.case.as_str()) {
        return Err(format!("--case {}: expected all, {}", args.case, cases.join(", ")).into());
    }
    let want = |case: &str| args.case == "all" || args.case == case;
    let mut backends = Vec::new();
    if want_cpu {
        backends.push(Backend::Cpu { reason: None });
    }
    if want_gpu {
        backends.push(Backend::select(DevicePreference::Gpu)?);
    }
    if want("liver") {
        liver_cases(&args, want_cpu, want_gpu, &backends)?;
    }
    if !want("tg119-photon") && !want("tg119-proton") {
        return Ok(());
    }
    if !args.tg119.is_dir() {
        println!(
            "case: TG-119 skipped: {} not found (--tg119 DIR)",
            args.tg119.display()
        );
        return Ok(());
    }
    let case = Tg119::load(&args.tg119, args.grid_mm)?;
    if want("tg119-photon") {
        tg119_beamlet_matrix(&case, args.repeat, &backends)?;
    }
    if want("tg119-proton") {
        tg119_proton_benchmark(&case, args.iterations, args.halo_lattice_mm, &backends)?;
    }
    Ok(())
}

/// The liver phantom's cases: the ion and photon dose kernels on each
/// backend, and the 2-arc control-point matrix with its optimiser.
fn liver_cases(
    args: &Args,
    want_cpu: bool,
    want_gpu: bool,
    backends: &[Backend],
) -> Result<(), super::Error> {
    let phantom = ferrodose_phantom::Phantom::builtin("liver")?.build()?;
    let ptv = phantom.roi("PTV").ok_or("the liver phantom has no PTV")?;
    let cpu = Backend::Cpu { reason: None };
    let rsp = calibrated(&phantom.hu, relative_stopping_power, &cpu)?;
    let table = RangeTable::new(Ion::proton(), &Material::water(78.0), 250.0)?;
    let iso = ptv.centroid_mm().ok_or("empty PTV")?;
    let mut beams = three_proton_beams(
        ptv,
        &rsp,
        &table,
        &PlacementSettings::for_spot_sigma(4.0),
        |g| BeamGeometry::coplanar(g, iso, phantom.patient_position),
    );
    let placed: usize = beams.iter().map(|b| b.spots.len()).sum();
    let keep_every = placed.div_ceil(args.spots.max(1)).max(1);
    for b in &mut beams {
        b.spots = b
            .spots
            .iter()
            .step_by(keep_every)
            .map(|s| ferrodose_pencil::Spot { weight: 1e7, ..*s })
            .collect();
    }
    let energies = distinct_energies(&beams);
    let base = IonBaseData::protons(&energies, |_| 0.008, 0.5)?;
    let ct = phantom.hu.grid();
    let shape = [0, 1, 2]
        .map(|a| ((ct.shape()[a] - 1) as f64 * ct.spacing_mm()[a] / args.grid_mm) as usize + 1);
    let grid = Grid::axial(shape, [args.grid_mm; 3], ct.origin_mm())?;
    let input = PencilBeamEngine::new(&base, &rsp).kernel_input(&beams, &grid, &cpu)?;
    let pairs = grid.len() as f64 * input.spots.len() as f64;
    println!(
        "case: liver phantom, 3 proton beams, {} of {placed} placed spots, {} energies, {}×{}×{} voxels of {} mm ({:.3e} voxel–spot pairs)",
        input.spots.len(),
        energies.len(),
        shape[0],
        shape[1],
        shape[2],
        args.grid_mm,
        pairs
    );
    let kernel = compare_backends(
        &|b: &Backend| Ok(input.dose(b)?),
        pairs,
        args.repeat,
        want_cpu,
        want_gpu,
    )?;
    if want_cpu {
        segment_dose(&input, &grid, &kernel, pairs, args.repeat)?;
    }

    // Photons: one conformal 6 MV arc (control points every 10°) on the same grid.
    let density = calibrated(&phantom.hu, relative_electron_density, &cpu)?;
    let machine = PhotonMachine::generic_6mv();
    let arc = ArcSettings {
        start_deg: 181.0,
        stop_deg: 359.0,
        spacing_deg: 10.0,
        margin_mm: 3.0,
    };
    let geometry = BeamGeometry::coplanar(181.0, iso, phantom.patient_position);
    let cps = arc_control_points(&machine, &geometry, &arc, ptv)?;
    let photon = PhotonEngine::new(&machine, &density).kernel_input(&cps, &grid, &cpu)?;
    let pairs = grid.len() as f64 * photon.elements.len() as f64;
    println!(
        "case: liver phantom, one 6 MV arc of {} control points, {} fluence elements, same grid ({pairs:.3e} voxel–element pairs)",
        cps.len(),
        photon.elements.len()
    );
    compare_backends(
        &|b: &Backend| Ok(photon.dose(b)?),
        pairs,
        args.repeat,
        want_cpu,
        want_gpu,
    )?;
    // The optimiser case: the matrix built on the CPU, products on each backend.
    liver_two_arcs(
        &machine,
        &density,
        ptv,
        &grid,
        geometry,
        args.iterations,
        backends,
    )
}

/// Times the CPU path of `run` (`dose_by_segments`: each spot's reach only)
/// on the ion case and prints how far it departs from `kernel`, the dose of
/// the kernel's CPU twin.
fn segment_dose(
    input: &IonPbDose,
    grid: &Grid,
    kernel: &[f32],
    pairs: f64,
    repeat: usize,
) -> Result<(), super::Error> {
    let (best, dose) = best_of(repeat, || Ok(dose_by_segments(input, grid)?))?;
    println!(
        "{:<60} {:>9.3} s {:>12.3e} pairs/s  max |Δ| vs every-pair kernel {:.2e} of max dose",
        "CPU, each spot's reach only (as `run`)",
        best,
        pairs / best,
        largest_difference(&dose, kernel)
    );
    Ok(())
}

/// One untimed warm-up run of `f`, then the best time (s) of `repeat` (at
/// least one) timed runs, with the last run's result.
fn best_of<T>(
    repeat: usize,
    mut f: impl FnMut() -> Result<T, super::Error>,
) -> Result<(f64, T), super::Error> {
    let mut out = f()?;
    let mut best = f64::MAX;
    for _ in 0..repeat.max(1) {
        let t = Instant::now();
        out = f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok((best, out))
}

/// Times `dose` on the CPU (always: it is the reference) and, when asked, on
/// the GPU; prints pairs per second and checks the GPU against the CPU (1e-4
/// of the maximum dose). Returns the CPU's dose.
fn compare_backends(
    dose: &dyn Fn(&Backend) -> Result<Vec<f32>, super::Error>,
    pairs: f64,
    repeat: usize,
    want_cpu: bool,
    want_gpu: bool,
) -> Result<Vec<f32>, super::Error> {
    let cpu = Backend::Cpu { reason: None };
    let time = |backend: &Backend| best_of(repeat, || dose(backend));
    let (t_cpu, d_cpu) = time(&cpu)?;
    if want_cpu {
        println!(
            "{:<60} {:>9.3} s {:>12.3e} pairs/s",
            cpu.describe(),
            t_cpu,
            pairs / t_cpu
        );
    }
    if want_gpu {
        let gpu = Backend::select(DevicePreference::Gpu)?;
        let (t, d) = time(&gpu)?;
        let relative = largest_difference(&d, &d_cpu);
        println!(
            "{:<60} {:>9.3} s {:>12.3e} pairs/s  GPU/CPU speed {:.2}×  max |GPU − CPU| {:.2e} of max dose",
            gpu.describe(),
            t,
            pairs / t,
            t_cpu / t,
            relative
        );
        if relative > 1e-4 {
            return Err(format!(
                "GPU and CPU doses differ by {relative:.2e} of the maximum (tolerance 1e-4)"
            )
            .into());
        }
    }
    Ok(d_cpu)
}
