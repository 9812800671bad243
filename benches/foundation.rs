//! Throughput of the foundation stages on the TG-119 CT (167 × 167 × 129 voxels):
//! exact ray traversal (voxel crossings per second) and the piecewise-linear
//! CT calibration kernel (Schneider HU → RSP, about 850 knots) on the CPU twin
//! and on the GPU (values per second).
//!
//! `cargo bench --bench foundation`; results and machines in docs/performance.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ferrodose_gpu::{Backend, GpuContext, PiecewiseLinear};
use ferrodose_grid::{trace_ray, Point3};
use rand::{Rng, SeedableRng};
use std::hint::black_box;

fn tg119() -> ferrodose_rtio::Study {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tg119/dicom");
    ferrodose_rtio::Study::load(&dir).expect("TG-119 beside the checkout")
}

fn ray_traversal(c: &mut Criterion) {
    let study = tg119();
    let grid = study.ct.hu.grid().clone();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    // 1000 rays from a 1 m source circle through points near the centre.
    let rays: Vec<(Point3<f64>, Point3<f64>)> = (0..1000)
        .map(|_| {
            let a: f64 = rng.random_range(0.0..std::f64::consts::TAU);
            let src = Point3::new(
                1000.0 * a.cos(),
                1000.0 * a.sin(),
                rng.random_range(-100.0..100.0),
            );
            let target = Point3::new(
                rng.random_range(-50.0..50.0),
                rng.random_range(-50.0..50.0),
                rng.random_range(-50.0..50.0),
            );
            (src, src + (target - src) * 2.0)
        })
        .collect();
    let crossings: usize = rays.iter().map(|(s, e)| trace_ray(&grid, s, e).len()).sum();
    let mut g = c.benchmark_group("ray_traversal_tg119");
    g.throughput(Throughput::Elements(crossings as u64));
    g.bench_function("1000_rays", |b| {
        b.iter(|| {
            rays.iter()
                .map(|(s, e)| trace_ray(&grid, black_box(s), black_box(e)).len())
                .sum::<usize>()
        })
    });
    g.finish();
}

fn piecewise_linear(c: &mut Criterion) {
    let study = tg119();
    let hu = study.ct.hu.data().to_vec();
    // The Schneider (2000) HU → RSP curve of the physics crate, 5 HU knots.
    let knots = ferrodose_physics::calibration::knots(
        5.0,
        ferrodose_physics::calibration::relative_stopping_power,
    );
    let f = PiecewiseLinear::new(knots).unwrap();
    let mut g = c.benchmark_group("piecewise_linear_tg119");
    g.throughput(Throughput::Elements(hu.len() as u64));
    let cpu = Backend::Cpu { reason: None };
    g.bench_function("cpu", |b| b.iter(|| f.apply(&cpu, black_box(&hu)).unwrap()));
    if let Ok(ctx) = GpuContext::new() {
        let name = format!("gpu {}", ctx.describe());
        let gpu = Backend::Gpu(Box::new(ctx));
        // Includes upload and read-back: the cost a caller sees.
        g.bench_function(&name, |b| b.iter(|| f.apply(&gpu, black_box(&hu)).unwrap()));
    } else {
        eprintln!("no GPU adapter: GPU benchmark skipped");
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(std::time::Duration::from_secs(4));
    targets = ray_traversal, piecewise_linear
}
criterion_main!(benches);
