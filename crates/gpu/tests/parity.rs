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

/// The TG-119 CT (Craft et al. 2014) and matRad's HU → relative electron
/// density table as shipped with the case (`npy/geometry.json`).
fn tg119_and_hlut() -> (ferrodose_rtio::Study, PiecewiseLinear) {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tg119/dicom");
    let hlut = PiecewiseLinear::new(vec![
        [-1024.0, 0.00324],
        [200.0, 1.2],
        [449.0, 1.2],
        [2000.0, 2.49066],
        [2048.0, 2.5306],
        [3071.0, 2.5306],
    ])
    .unwrap();
    (ferrodose_rtio::Study::load(&dir).unwrap(), hlut)
}

/// The TG-119 CT through matRad's table.
#[test]
fn piecewise_linear_on_tg119_ct() {
    let Some(ctx) = GpuContext::for_tests("piecewise_linear_tg119") else {
        return;
    };
    let (study, hlut) = tg119_and_hlut();
    compare(
        &hlut,
        &Backend::Gpu(Box::new(ctx)),
        study.ct.hu.data(),
        2.53,
    );
}

/// A random ion kernel input: grid of 3–29 voxels per axis (sheared axes),
/// 1–4 energies of random depth tables (core and tail IDD, tail σ; no tail
/// in about a third of the samples), 1–199 spots with random directions, WED
/// and σ_MCS profiles, spot sizes and weights.
fn random_ion_input(rng: &mut Xoshiro256PlusPlus) -> ferrodose_gpu::IonPbDose {
    use ferrodose_gpu::{IonPbDose, IonPbParams, IonPbSpot};
    let (nx, ny, nz) = (
        rng.random_range(3..30u32),
        rng.random_range(3..30u32),
        rng.random_range(3..30u32),
    );
    let n_depth = rng.random_range(2..300u32);
    let n_energy = rng.random_range(1..5u32);
    let (mut max_tail_sigma, mut max_tail_cutoff2) = (0.0f32, 0.0f32);
    let depth_table: Vec<[f32; 4]> = (0..n_depth * n_energy)
        .map(|_| {
            let tail = (rng.random_range(-1.0..2.0f32)).max(0.0);
            let sigma_tail = rng.random_range(0.0..20.0f32);
            let cutoff2 = rng.random_range(1.0..16.0f32);
            max_tail_sigma = max_tail_sigma.max(sigma_tail);
            max_tail_cutoff2 = max_tail_cutoff2.max(cutoff2);
            [rng.random_range(0.0..10.0), tail, sigma_tail, cutoff2]
        })
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
                    (cutoff * cutoff * (sigma_air * sigma_air + max_mcs * max_mcs)).max(
                        max_tail_cutoff2
                            * (sigma_air * sigma_air
                                + max_mcs * max_mcs
                                + max_tail_sigma * max_tail_sigma),
                    ),
                ],
                dir: [d[0] / n, d[1] / n, d[2] / n, rng.random_range(0.0..1e3)],
                sigma_air_mm: sigma_air,
                energy: rng.random_range(0..n_energy),
                profile_offset: offset,
                profile_len: len,
            }
        })
        .collect();
    IonPbDose {
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
        depth_table,
        profiles,
    }
}

/// Ion pencil-beam kernel on random grids, spots, tables and WED profiles,
/// Tolerance: 1e-4 of the maximum dose (issue 4).
#[test]
fn ion_pb_dose_random_inputs() {
    let Some(ctx) = GpuContext::for_tests("ion_pb_dose_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut cases_with_dose = 0;
    for _ in 0..6 {
        let k = random_ion_input(&mut rng);
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

/// Ion influence-matrix kernel on random inputs (as above), random row
/// segments per spot (no voxel twice) and a random 80 % of voxels kept: the
/// GPU matrix holds the CPU path's entries within 1e-4 of its largest entry
/// (issue 4's tolerance); an entry only one of them holds (a voxel that f32
/// rounding moves across the lateral cut-off) lies below that too.
#[test]
fn ion_influence_random_inputs() {
    use ferrodose_gpu::{IonInfluence, IonSegment};
    use std::collections::HashSet;
    let Some(ctx) = GpuContext::for_tests("ion_influence_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let cpu = Backend::Cpu { reason: None };
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(41);
    let mut cases_with_entries = 0;
    for _ in 0..6 {
        let k = random_ion_input(&mut rng);
        let p = k.params;
        let mut segments = Vec::new();
        for s in 0..k.spots.len() as u32 {
            let mut rows = HashSet::new();
            for _ in 0..rng.random_range(0..40) {
                let (j, kk) = (rng.random_range(0..p.ny), rng.random_range(0..p.nz));
                if rows.insert((j, kk)) {
                    let i0 = rng.random_range(0..p.nx);
                    segments.push(IonSegment {
                        spot: s,
                        voxel: i0 + p.nx * (j + p.ny * kk),
                        len: rng.random_range(1..=p.nx - i0),
                        offset: 0,
                    });
                }
            }
        }
        let keep: Vec<bool> = (0..p.nx * p.ny * p.nz)
            .map(|_| rng.random_bool(0.8))
            .collect();
        let kernel = IonInfluence::new(&k, segments, &keep).unwrap();
        let (c, g) = (kernel.matrix(&cpu).unwrap(), kernel.matrix(&gpu).unwrap());
        let diff = c.difference(&g);
        let (worst, max, only) = (diff.largest, diff.largest_entry, diff.only_one);
        cases_with_entries += usize::from(c.nnz() > 0);
        assert!(
            worst <= 1e-4 * max,
            "max |GPU − CPU| = {worst}, largest entry {max}, {only} entries in one only"
        );
        assert!(
            only * 1000 <= c.nnz().max(1),
            "{only} of {} entries in one only",
            c.nnz()
        );
    }
    assert!(
        cases_with_entries >= 3,
        "only {cases_with_entries} random cases have entries"
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

/// Ray casting on random volumes: rays entering through random points of
/// random faces in random inward directions, sampled past their exit.
/// Tolerance: 1e-5 of the largest WED (f32 sums; the GPU may fuse
/// multiply–adds).
#[test]
fn wed_profile_random_rays() {
    use ferrodose_gpu::{WedProfiles, WedRay};
    let Some(ctx) = GpuContext::for_tests("wed_profile_random") else {
        return;
    };
    let gpu = Backend::Gpu(Box::new(ctx));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(31);
    for _ in 0..6 {
        let shape = [0; 3].map(|_| rng.random_range(1..40usize));
        let scale: Vec<f32> = (0..shape.iter().product::<usize>())
            .map(|_| rng.random_range(0.0..2.5))
            .collect();
        let rays = (0..rng.random_range(1..500))
            .map(|_| {
                let axis = rng.random_range(0..3);
                let high = rng.random_bool(0.5);
                let mut entry = shape.map(|n| rng.random_range(0.0..n as f64));
                entry[axis] = if high { shape[axis] as f64 } else { 0.0 };
                let mut dir = [0; 3].map(|_| rng.random_range(-1.0..1.0f64));
                dir[axis] = if high { -1.0 } else { 1.0 } * rng.random_range(0.1..1.0);
                let spacing = rng.random_range(0.5..3.0);
                let per_mm = dir.map(|d| d / spacing);
                WedRay::new(
                    entry,
                    per_mm,
                    rng.random_range(0.2..2.0),
                    rng.random_range(2..300),
                )
            })
            .collect();
        let k = WedProfiles::new(shape, rays);
        let g = k.trace(&gpu, &scale).unwrap();
        let c = k.trace(&Backend::Cpu { reason: None }, &scale).unwrap();
        let max = c.iter().fold(0.0f32, |m, v| m.max(*v));
        let worst = max_abs_difference(&g, &c);
        assert!(
            worst <= 1e-5 * max.max(1.0),
            "{shape:?}: max |GPU − CPU| = {worst} mm of {max} mm"
        );
    }
}

/// Ray casting through the TG-119 CT (Craft et al. 2014; HU → relative
/// electron density through matRad's table as shipped with the case): 2 000
/// rays aimed at the target from all around, GPU against the CPU twin
/// (1e-5 of the largest WED), and the twin against the exact f64 sum of
/// scale × path length over `trace_ray`'s voxel segments (1e-5 of the
/// largest WED: f32 sums over about a thousand voxel crossings).
#[test]
fn wed_profile_on_tg119_ct() {
    use ferrodose_gpu::{WedProfiles, WedRay};
    use ferrodose_grid::{index_ray, trace_ray, Point3, Vector3};
    let Some(ctx) = GpuContext::for_tests("wed_profile_tg119") else {
        return;
    };
    let (study, hlut) = tg119_and_hlut();
    let hu = &study.ct.hu;
    let grid = hu.grid();
    let red = hlut
        .apply(&Backend::Cpu { reason: None }, hu.data())
        .unwrap();
    let [nx, ny, nz] = grid.shape();
    let centre = grid.voxel_centre(nx / 2, ny / 2, nz / 2);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(119);
    let step = 1.0;
    let mut rays = Vec::new();
    let mut lines = Vec::new();
    while rays.len() < 2000 {
        let d = Vector3::new(
            rng.random_range(-1.0..1.0f64),
            rng.random_range(-1.0..1.0f64),
            rng.random_range(-0.3..0.3f64),
        )
        .normalize();
        let aim = centre
            + Vector3::new(
                rng.random_range(-60.0..60.0),
                rng.random_range(-60.0..60.0),
                0.0,
            );
        let start: Point3<f64> = aim - d * 600.0;
        if let Some(r) = index_ray(grid, &start, &d, 1200.0, step) {
            rays.push(WedRay::new(
                r.entry_index,
                r.index_per_mm,
                step,
                r.n_samples,
            ));
            lines.push((start, d, r));
        }
    }
    let k = WedProfiles::new(grid.shape(), rays);
    let gpu = k.trace_each(&Backend::Gpu(Box::new(ctx)), &red).unwrap();
    let cpu = k.trace_each(&Backend::Cpu { reason: None }, &red).unwrap();
    let (mut worst_gpu, mut worst_exact, mut max) = (0.0f32, 0.0f64, 0.0f32);
    for ((g, c), (start, d, r)) in gpu.iter().zip(&cpu).zip(&lines) {
        worst_gpu = worst_gpu.max(max_abs_difference(g, c));
        max = max.max(*c.last().unwrap());
        // Exact: the segments from the entry point on.
        let entry_t = (r.entry_mm - start).norm();
        let segments = trace_ray(grid, start, &(start + d * 1200.0));
        for (k, w) in c.iter().enumerate() {
            let t = entry_t + k as f64 * step;
            let exact: f64 = segments
                .iter()
                .map(|s| (t - s.entry_mm).clamp(0.0, s.length_mm) * f64::from(red[s.index]))
                .sum();
            worst_exact = worst_exact.max((f64::from(*w) - exact).abs());
        }
    }
    eprintln!(
        "{} rays: max |GPU − CPU| {worst_gpu:.2e} mm, max |CPU − exact| {worst_exact:.2e} mm, largest WED {max:.1} mm",
        lines.len()
    );
    assert!(worst_gpu <= 1e-5 * max, "GPU vs CPU {worst_gpu} mm");
    assert!(
        worst_exact <= 1e-5 * f64::from(max),
        "CPU twin vs exact {worst_exact} mm"
    );
}
