//! Throughput of the photon pencil-beam dose kernel on the built-in liver
//! phantom: three conformal 6 MV control points of an arc (gantry 285°,
//! 315° and 345°, 3 mm margin around the PTV) on a 5 mm dose grid over the
//! whole phantom. Reported as voxel–element pairs per second (every pair is
//! evaluated: the full-grid dose has no lateral cut-off), CPU twin and GPU.
//!
//! `cargo bench --bench photon_pb`; results and machines in docs/performance.md.

mod common;

use common::calibrated;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrodose_gpu::{Backend, GpuContext};
use ferrodose_grid::{BeamGeometry, Grid};
use ferrodose_photon::{arc_control_points, ArcSettings, PhotonEngine, PhotonMachine};
use std::hint::black_box;

fn photon_pb(c: &mut Criterion) {
    let phantom = ferrodose_phantom::Phantom::builtin("liver")
        .unwrap()
        .build()
        .unwrap();
    let ptv = phantom.roi("PTV").expect("the liver phantom has a PTV");
    let cpu = Backend::Cpu { reason: None };
    let density = calibrated(
        &phantom.hu,
        ferrodose_physics::calibration::relative_electron_density,
    );
    let ct = phantom.hu.grid();
    let shape =
        [0, 1, 2].map(|a| ((ct.shape()[a] - 1) as f64 * ct.spacing_mm()[a] / 5.0) as usize + 1);
    let grid = Grid::axial(shape, [5.0; 3], ct.origin_mm()).unwrap();
    let machine = PhotonMachine::generic_6mv();
    let arc = ArcSettings {
        start_deg: 270.0,
        stop_deg: 360.0,
        spacing_deg: 30.0,
        margin_mm: 3.0,
    };
    let iso = ptv.centroid_mm().expect("a PTV with voxels");
    let geometry = BeamGeometry::coplanar(270.0, iso, phantom.patient_position);
    let cps = arc_control_points(&machine, &geometry, &arc, ptv).unwrap();
    let input = PhotonEngine::new(&machine, &density)
        .kernel_input(&cps, &grid, &cpu)
        .unwrap();
    let pairs = grid.len() as u64 * input.elements.len() as u64;
    let mut g = c.benchmark_group(format!(
        "photon_pb_dose_liver_{}cps_{}elements_5mm",
        cps.len(),
        input.elements.len()
    ));
    g.throughput(Throughput::Elements(pairs));
    g.sample_size(10);
    g.bench_function("cpu", |b| b.iter(|| input.dose(black_box(&cpu)).unwrap()));
    match GpuContext::new() {
        Ok(ctx) => {
            let gpu = Backend::Gpu(Box::new(ctx));
            let name = format!("gpu {}", gpu.describe().trim_start_matches("GPU: "));
            g.bench_function(&name, |b| b.iter(|| input.dose(black_box(&gpu)).unwrap()));
        }
        Err(e) => eprintln!("GPU benchmark skipped: {e}"),
    }
    g.finish();
}

criterion_group!(benches, photon_pb);
criterion_main!(benches);
