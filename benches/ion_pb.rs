//! Throughput of the ion pencil-beam dose kernel on the TG-119 CT: three proton
//! beams (gantry 0°, 120°, 240°) with 7 × 7 spots each at 5 mm spacing and
//! three energies, on a 5 mm dose grid covering the body (101 × 101 × 78
//! voxels). Reported as voxel–spot pairs per second (each pair is evaluated or
//! rejected by the lateral cut-off), CPU twin and GPU; and the same spots'
//! influence matrix over every voxel (entries per second).
//!
//! `cargo bench --bench ion_pb`; results and machines in docs/performance.md.

mod common;

use common::calibrated;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrodose_gpu::{Backend, GpuContext};
use ferrodose_grid::{BeamGeometry, Grid, PatientPosition, Point3};
use ferrodose_pencil::{
    influence_matrix, influence_matrix_coarse_tail, BeamSpots, IonBaseData, PencilBeamEngine, Spot,
    TAIL_LATTICE_MM,
};
use std::hint::black_box;

fn ion_pb(c: &mut Criterion) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tg119/dicom");
    let study = ferrodose_rtio::Study::load(&dir).expect("TG-119 beside the checkout");
    let cpu = Backend::Cpu { reason: None };
    let rsp = calibrated(
        &study.ct.hu,
        ferrodose_physics::calibration::relative_stopping_power,
    );
    let energies = [120.0, 130.0, 140.0];
    let base = IonBaseData::protons(&energies, |_| 0.008, 0.5).unwrap();
    let beams: Vec<BeamSpots> = [0.0, 120.0, 240.0]
        .iter()
        .map(|&g| BeamSpots {
            geometry: BeamGeometry::coplanar(g, Point3::origin(), PatientPosition::Hfs),
            sigma_air_mm: 4.0,
            virtual_source_mm: None,
            spots: (0..49)
                .map(|n| Spot {
                    energy_mev_u: energies[n % 3],
                    x_mm: f64::from(n as i32 % 7 - 3) * 5.0,
                    y_mm: f64::from(n as i32 / 7 - 3) * 5.0,
                    weight: 1e8,
                })
                .collect(),
        })
        .collect();
    let grid = Grid::axial(
        [101, 101, 78],
        [5.0; 3],
        Point3::new(-250.0, -250.0, -160.0),
    )
    .unwrap();
    let engine = PencilBeamEngine::new(&base, &rsp);
    let input = engine.kernel_input(&beams, &grid, &cpu).unwrap();
    let pairs = grid.len() as u64 * input.spots.len() as u64;
    let mut g = c.benchmark_group("ion_pb_dose_tg119_3beams_147spots_5mm");
    g.throughput(Throughput::Elements(pairs));
    g.sample_size(10);
    g.bench_function("cpu", |b| b.iter(|| input.dose(black_box(&cpu)).unwrap()));
    let gpu = match GpuContext::new() {
        Ok(ctx) => Some(Backend::Gpu(Box::new(ctx))),
        Err(e) => {
            eprintln!("GPU benchmarks skipped: {e}");
            None
        }
    };
    if let Some(gpu) = &gpu {
        let name = format!("gpu {}", gpu.describe().trim_start_matches("GPU: "));
        g.bench_function(&name, |b| b.iter(|| input.dose(black_box(gpu)).unwrap()));
    }
    g.finish();

    // The same spots' influence matrix over every voxel of the grid (the
    // `ion_influence` kernel): entries per second.
    let keep = vec![true; grid.len()];
    let entries = influence_matrix(&input, &grid, &keep, &cpu).unwrap().nnz();
    let mut g = c.benchmark_group("ion_influence_tg119_3beams_147spots_5mm");
    g.throughput(Throughput::Elements(entries as u64));
    g.sample_size(10);
    for backend in std::iter::once(&cpu).chain(&gpu) {
        g.bench_function(backend.describe(), |b| {
            b.iter(|| influence_matrix(&input, &grid, &keep, black_box(backend)).unwrap())
        });
    }
    g.finish();

    // The same with the protons' halo on the 10 mm lattice (what plans build).
    let lattice = |backend: &Backend| {
        influence_matrix_coarse_tail(&input, &grid, &keep, TAIL_LATTICE_MM, backend).unwrap()
    };
    let mut g = c.benchmark_group("ion_influence_halo_lattice_tg119_3beams_147spots_5mm");
    g.throughput(Throughput::Elements(lattice(&cpu).nnz() as u64));
    g.sample_size(10);
    for backend in std::iter::once(&cpu).chain(&gpu) {
        g.bench_function(backend.describe(), |b| {
            b.iter(|| lattice(black_box(backend)))
        });
    }
    g.finish();
}

criterion_group!(benches, ion_pb);
criterion_main!(benches);
