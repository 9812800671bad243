//! Water-equivalent (radiological) depth along a ray through a scaling
//! volume: relative stopping power for ions, relative electron density for
//! photons.

use crate::{trace_ray, Point3, Vector3, Volume};

/// WED profile of one ray: where it enters the volume and the WED (mm) at
/// every `step_mm` of geometric distance from there.
#[derive(Debug, Clone, PartialEq)]
pub struct WedProfile {
    /// Entry point into the volume (mm, patient coordinates).
    pub entry_mm: Point3<f64>,
    /// Cumulative WED (mm of water) at entry + k·step_mm along the ray.
    pub wed_mm: Vec<f32>,
}

/// Traces the ray from `start` along unit `dir` for `length_mm` through the RSP
/// volume and samples the cumulative WED every `step_mm` from the entry point,
/// to the exit (at least two samples). `None` when the ray misses the volume.
pub fn wed_profile(
    rsp: &Volume<f32>,
    start: &Point3<f64>,
    dir: &Vector3<f64>,
    length_mm: f64,
    step_mm: f64,
) -> Option<WedProfile> {
    let end = start + dir * length_mm;
    let segments = trace_ray(rsp.grid(), start, &end);
    let first = segments.first()?;
    let last = segments.last()?;
    let entry = first.entry_mm;
    let span = last.entry_mm + last.length_mm - entry;
    let n = ((span / step_mm).ceil() as usize + 1).max(2);
    let mut wed = Vec::with_capacity(n);
    let (mut seg, mut acc) = (0usize, 0.0f64);
    for k in 0..n {
        let t = entry + k as f64 * step_mm;
        // Whole segments that end before t.
        while seg < segments.len() && segments[seg].entry_mm + segments[seg].length_mm <= t {
            acc += segments[seg].length_mm * f64::from(rsp.data()[segments[seg].index]);
            seg += 1;
        }
        let partial = segments
            .get(seg)
            .map(|s| (t - s.entry_mm).clamp(0.0, s.length_mm) * f64::from(rsp.data()[s.index]))
            .unwrap_or(0.0);
        wed.push((acc + partial) as f32);
    }
    Some(WedProfile {
        entry_mm: start + dir * entry,
        wed_mm: wed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Grid;

    /// 10 mm of RSP 1 then 10 mm of RSP 2 along z: WED rises with slope 1 then 2.
    #[test]
    fn two_layers() {
        let g = Grid::axial([1, 1, 20], [1.0, 1.0, 1.0], Point3::new(0.0, 0.0, 0.5)).unwrap();
        let data = (0..20).map(|k| if k < 10 { 1.0 } else { 2.0 }).collect();
        let rsp = Volume::from_vec(g, data);
        let p = wed_profile(
            &rsp,
            &Point3::new(0.0, 0.0, -50.0),
            &Vector3::z(),
            200.0,
            0.5,
        )
        .unwrap();
        assert!((p.entry_mm - Point3::new(0.0, 0.0, 0.0)).norm() < 1e-9);
        assert_eq!(p.wed_mm.len(), 41);
        assert!((p.wed_mm[10] - 5.0).abs() < 1e-5);
        assert!((p.wed_mm[20] - 10.0).abs() < 1e-5);
        assert!((p.wed_mm[30] - 20.0).abs() < 1e-5);
        assert!((p.wed_mm[40] - 30.0).abs() < 1e-5);
        assert!(wed_profile(
            &rsp,
            &Point3::new(5.0, 0.0, -50.0),
            &Vector3::z(),
            200.0,
            0.5
        )
        .is_none());
    }
}
