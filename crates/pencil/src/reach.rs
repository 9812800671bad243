//! How far from its central ray a spot deposits dose: per piece of the ray,
//! the squared radius beyond which both Gaussians of the `ion_pair` kernel
//! function are cut off. The engine gives the kernel the largest piece's
//! radius; the influence matrix evaluates each piece only within its own, so
//! the narrow entrance of a spot (a small halo share, little scattering) is
//! not evaluated out to the radius of its Bragg peak.

/// Profile samples per piece of a spot's ray (20 × the 0.5 mm profile step
/// = 10 mm of path by default).
pub const PIECE_SAMPLES: usize = 20;

/// For each piece of `PIECE_SAMPLES` steps of a spot's (WED, σ_MCS)
/// `profile`: the squared radius (mm²) beyond which the kernel's dose is zero
/// at every point whose projection on the ray lies within the piece (path
/// samples q·P ..= (q + 1)·P; the last piece also beyond the profile's end,
/// where the kernel holds its last sample). `table` holds the spot's energy's
/// depth-table rows (`IonBaseData::kernel_table`: core, tail, σ_tail, the
/// tail's squared cut-off in its σ) every `depth_step_mm` of WED,
/// `core_cutoff2` is the core's squared cut-off in its σ.
///
/// The bound holds for the kernel's interpolated values: σ² is at most
/// σ_air² plus the piece's largest σ_MCS², and the tail's radius is bounded
/// with that σ² over every depth-table row the piece's WEDs interpolate
/// between.
pub fn piece_reach2(
    table: &[[f32; 4]],
    depth_step_mm: f64,
    core_cutoff2: f64,
    sigma_air_mm: f64,
    profile: &[[f32; 2]],
) -> Vec<f64> {
    let last_row = table.len() - 1;
    let last_sample = profile.len() - 1;
    (0..last_sample.div_ceil(PIECE_SAMPLES).max(1))
        .map(|q| {
            let samples =
                &profile[q * PIECE_SAMPLES..=((q + 1) * PIECE_SAMPLES + 1).min(last_sample)];
            let (mut w_lo, mut w_hi, mut mcs2) = (f64::MAX, 0.0f64, 0.0f64);
            for [w, s] in samples {
                w_lo = w_lo.min(f64::from(*w));
                w_hi = w_hi.max(f64::from(*w));
                mcs2 = mcs2.max(f64::from(*s).powi(2));
            }
            let s2 = sigma_air_mm.powi(2) + mcs2;
            let row = |w: f64| ((w / depth_step_mm) as usize).min(last_row);
            table[row(w_lo)..=(row(w_hi) + 1).min(last_row)]
                .iter()
                .map(|t| f64::from(t[3]) * (s2 + f64::from(t[2]).powi(2)))
                .fold(core_cutoff2 * s2, f64::max)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand values: σ_air 3 mm, core cut-off 4σ; a tail of σ 10 mm with a
    /// squared cut-off of 2 in the row of WED 10 mm only. The first piece (WED
    /// 0–21 mm, σ_MCS 1 mm) interpolates in that row, so its tail bounds it:
    /// 2·(9 + 1 + 100) = 220 > 16·10; the second (WED from 20 mm, σ_MCS up to
    /// 2 mm) is the core's 16·(9 + 4) = 208.
    #[test]
    fn pieces_take_their_own_largest_radius() {
        let table = [
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.1, 10.0, 2.0],
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0],
        ];
        let profile: Vec<[f32; 2]> = (0..=PIECE_SAMPLES + 5)
            .map(|n| {
                let mcs = if n <= PIECE_SAMPLES + 1 { 1.0 } else { 2.0 };
                if n <= PIECE_SAMPLES + 1 {
                    [n as f32, mcs]
                } else {
                    [40.0 + n as f32, mcs]
                }
            })
            .collect();
        let r2 = piece_reach2(&table, 10.0, 16.0, 3.0, &profile);
        assert_eq!(r2.len(), 2);
        assert!((r2[0] - 220.0).abs() < 1e-9, "{r2:?}");
        assert!((r2[1] - 208.0).abs() < 1e-9, "{r2:?}");
    }
}
