//! GPU (WGSL) against CPU twin, on random inputs and on a real CT.
//! Tolerance: 1e-5 of the output range (f32 arithmetic; the GPU may fuse
//! multiply–adds where the CPU rounds twice).

use ferrodose_gpu::{Backend, GpuContext, PiecewiseLinear};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The largest |g − c| of two equally long outputs.
fn max_abs_difference(g: &[f32], c: &[f32]) -> f32 {
    assert_eq!(g.len(), c.len());
    g.iter()
        .zip(c)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max)
}

fn compare(f: &PiecewiseLinear, gpu: &Backend, values: &[f32], range: f32) {
    let g = f.apply(gpu, values).unwrap();
    let c = f.apply(&Backend::Cpu { reason: None }, values).unwrap();
    let worst = max_abs_difference(&g, &c);
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

/// Ion pencil-beam kernel on random grids, spots, tables and WED profiles,
/// Tolerance: 1e-4 of the maximum dose (issue 4).
#[test]
fn ion_pb_dose_random_inputs() {
    use ferrodose_gpu::{IonPbDose, IonPbParams, IonPbSpot};
    let Some(ctx) = GpuContext::for_tests("ion_pb_dose_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut cases_with_dose = 0;
    for _ in 0..6 {
        let (nx, ny, nz) = (
            rng.random_range(3..30u32),
            rng.random_range(3..30u32),
            rng.random_range(3..30u32),
        );
        let n_depth = rng.random_range(2..300u32);
        let n_energy = rng.random_range(1..5u32);
        let idd: Vec<f32> = (0..n_depth * n_energy)
            .map(|_| rng.random_range(0.0..10.0))
            .collect();
        let mut profiles = Vec::new();
        let cutoff: f32 = rng.random_range(2.0..6.0);
        let spots: Vec<IonPbSpot> = (0..rng.random_range(1..200))
            .map(|_| {
                let len = rng.random_range(2..400u32);
                let offset = profiles.len() as u32;
                let (mut w, mut max_mcs) = (0.0f32, 0.0f32);
                for _ in 0..len {
                    w += rng.random_range(0.0..2.0);
                    let sigma_mcs = rng.random_range(0.0..6.0);
                    max_mcs = max_mcs.max(sigma_mcs);
                    profiles.push([w, sigma_mcs]);
                }
                let d = [
                    rng.random_range(-1.0..1.0f32),
                    rng.random_range(-1.0..1.0f32),
                    rng.random_range(-1.0..1.0f32),
                ];
                let n = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt().max(1e-3);
                let sigma_air: f32 = rng.random_range(0.5..8.0);
                IonPbSpot {
                    origin: [
                        rng.random_range(-20.0..20.0),
                        rng.random_range(-20.0..20.0),
                        rng.random_range(-20.0..20.0),
                        cutoff * cutoff * (sigma_air * sigma_air + max_mcs * max_mcs),
                    ],
                    dir: [d[0] / n, d[1] / n, d[2] / n, rng.random_range(0.0..1e3)],
                    sigma_air_mm: sigma_air,
                    energy: rng.random_range(0..n_energy),
                    profile_offset: offset,
                    profile_len: len,
                }
            })
            .collect();
        let k = IonPbDose {
            params: IonPbParams {
                grid_origin: [-15.0, -15.0, -15.0, 0.0],
                step_i: [1.3, 0.0, 0.0, 0.0],
                step_j: [0.0, 1.1, 0.2, 0.0],
                step_k: [0.0, -0.2, 1.1, 0.0],
                nx,
                ny,
                nz,
                n_spots: spots.len() as u32,
                n_depth,
                voxel_offset: 0,
                n_voxels: 0,
                _pad0: 0,
                depth_step_mm: rng.random_range(0.1..2.0),
                profile_step_mm: rng.random_range(0.2..2.0),
                cutoff_sigmas: cutoff,
                gy_per_unit: 1e-3,
            },
            spots,
            idd,
            profiles,
        };
        let g = k.dose(&gpu).unwrap();
        let c = k.dose(&Backend::Cpu { reason: None }).unwrap();
        let max = c.iter().fold(0.0f32, |m, v| m.max(*v));
        let worst = g
            .iter()
            .zip(&c)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        cases_with_dose += usize::from(max > 0.0);
        assert!(
            worst <= 1e-4 * max,
            "max |GPU − CPU| = {worst}, max dose {max}"
        );
    }
    assert!(
        cases_with_dose >= 3,
        "only {cases_with_dose} random cases deposit dose"
    );
}

/// Sparse matrix–vector products on random matrices (empty rows, repeated
/// columns, long rows) both ways, M·x and Mᵀ·x. Tolerance: 1e-5 of the
/// largest Σ|m·x| of a row (f32 sums; the GPU may fuse multiply–adds).
#[test]
fn sparse_mat_vec_random_matrices() {
    use ferrodose_gpu::{CompressedRows, SparseMatVec};
    let Some(ctx) = GpuContext::for_tests("sparse_mat_vec_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let cpu = Backend::Cpu { reason: None };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    for _ in 0..6 {
        let (n_rows, n_cols) = (rng.random_range(1..20_000), rng.random_range(1..5_000u32));
        let rows = (0..n_rows)
            .map(|_| {
                let len = if rng.random_bool(0.2) {
                    0
                } else {
                    rng.random_range(1..300)
                };
                let c: Vec<u32> = (0..len).map(|_| rng.random_range(0..n_cols)).collect();
                let v = c.iter().map(|_| rng.random_range(0.0..1.0)).collect();
                (c, v)
            })
            .collect();
        let m = CompressedRows::from_rows(n_cols as usize, rows).unwrap();
        let t = m.transpose();
        for matrix in [&m, &t] {
            let x: Vec<f32> = (0..matrix.n_cols)
                .map(|_| rng.random_range(-1.0..1.0))
                .collect();
            let g = SparseMatVec::new(&gpu, matrix).unwrap().mul(&x).unwrap();
            let c = SparseMatVec::new(&cpu, matrix).unwrap().mul(&x).unwrap();
            let scale = (0..matrix.n_rows())
                .map(|r| {
                    let (cols, vals) = matrix.row(r);
                    cols.iter()
                        .zip(vals)
                        .map(|(c, v)| (v * x[*c as usize]).abs())
                        .sum::<f32>()
                })
                .fold(0.0f32, f32::max);
            let worst = max_abs_difference(&g, &c);
            assert!(
                scale > 0.0 && worst <= 1e-5 * scale,
                "{} × {}: max |GPU − CPU| = {worst}, largest row sum {scale}",
                matrix.n_rows(),
                matrix.n_cols
            );
        }
    }
}
