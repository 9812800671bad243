//! GPU (WGSL) against CPU twin, on random inputs and on a real CT.
//! Tolerance: 1e-5 of the output range (f32 arithmetic; the GPU may fuse
//! multiply–adds where the CPU rounds twice).

use ferrodose_gpu::{Backend, GpuContext, PiecewiseLinear};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

fn compare(f: &PiecewiseLinear, gpu: &Backend, values: &[f32], range: f32) {
    let g = f.apply(gpu, values).unwrap();
    let c = f.apply(&Backend::Cpu { reason: None }, values).unwrap();
    assert_eq!(g.len(), c.len());
    let worst = g
        .iter()
        .zip(&c)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(
        worst <= 1e-5 * range,
        "max |GPU − CPU| = {worst} (range {range})"
    );
}

#[test]
fn piecewise_linear_random_tables_and_values() {
    let Some(ctx) = GpuContext::for_tests("piecewise_linear_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
    for _ in 0..10 {
        let n = rng.random_range(2..40);
        let mut x = -1200.0f32;
        let knots: Vec<[f32; 2]> = (0..n)
            .map(|_| {
                x += rng.random_range(1.0..300.0);
                [x, rng.random_range(-3.0..3.0)]
            })
            .collect();
        let f = PiecewiseLinear::new(knots).unwrap();
        let values: Vec<f32> = (0..rng.random_range(1..300_000))
            .map(|_| rng.random_range(-2000.0..6000.0))
            .collect();
        compare(&f, &gpu, &values, 6.0);
    }
}

/// The TG-119 CT (Craft et al. 2014) through matRad's HU → relative electron
/// density table as shipped with the case (`npy/geometry.json`).
#[test]
fn piecewise_linear_on_tg119_ct() {
    let Some(ctx) = GpuContext::for_tests("piecewise_linear_tg119") else {
        return;
    };
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tg119/dicom");
    let study = ferrodose_rtio::Study::load(&dir).unwrap();
    let hlut = PiecewiseLinear::new(vec![
        [-1024.0, 0.00324],
        [200.0, 1.2],
        [449.0, 1.2],
        [2000.0, 2.49066],
        [2048.0, 2.5306],
        [3071.0, 2.5306],
    ])
    .unwrap();
    compare(
        &hlut,
        &Backend::Gpu(Box::new(ctx)),
        study.ct.hu.data(),
        2.53,
    );
}
