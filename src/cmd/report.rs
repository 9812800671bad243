//! `report.html`: one self-contained page comparing the plans of a run: the
//! metrics side by side with pass/fail colouring, an overlaid DVH plot, and for
//! each plan axial, coronal and sagittal dose washes through the target centre
//! over the CT with isodose lines and structure outlines. Images are PNG
//! (`png` crate) embedded as base64 inside inline SVG, which also carries the
//! vector lines; text is rendered by the browser.

use super::evaluate::{comparison_rows, PlanReport, Structures};
use super::output::write_atomic;
use base64::Engine;
use ferrodose_grid::Volume;
use ferrodose_rtio::mask_outlines;
use std::fmt::Write;
use std::path::Path;

/// Isodose levels (fraction of the prescription) and their colours.
const ISODOSES: [(f64, &str); 5] = [
    (0.3, "#3b82f6"),
    (0.5, "#22c55e"),
    (0.8, "#eab308"),
    (0.95, "#f97316"),
    (1.07, "#dc2626"),
];

/// Structures drawn (if present) and their colours.
const OUTLINES: [(&str, &str); 9] = [
    ("PTV", "#ff00ff"),
    ("GTV", "#ff69b4"),
    ("Liver", "#a16207"),
    ("Stomach", "#06b6d4"),
    ("Duodenum", "#14b8a6"),
    ("Kidney_R", "#8b5cf6"),
    ("Kidney_L", "#8b5cf6"),
    ("SpinalCord", "#facc15"),
    ("BODY", "#9ca3af"),
];

/// A 2D cut of a volume, oriented for display: `w` × `h` pixels, row 0 at the
/// top, `px_mm` the size of a pixel (mm).
struct Cut<T> {
    w: usize,
    h: usize,
    px_mm: [f64; 2],
    values: Vec<T>,
}

/// The plane of a cut: axial (fixed k), coronal (fixed j), sagittal (fixed i).
#[derive(Clone, Copy)]
enum Plane {
    Axial,
    Coronal,
    Sagittal,
}

/// The cut of `v` through voxel `at` in `plane`: axial with anterior up,
/// coronal and sagittal with superior up (the grid's +k is superior).
fn cut<T: Copy>(v: &Volume<T>, plane: Plane, at: [usize; 3]) -> Cut<T> {
    let g = v.grid();
    let [nx, ny, nz] = g.shape();
    let [sx, sy, sz] = g.spacing_mm();
    let (w, h, px_mm) = match plane {
        Plane::Axial => (nx, ny, [sx, sy]),
        Plane::Coronal => (nx, nz, [sx, sz]),
        Plane::Sagittal => (ny, nz, [sy, sz]),
    };
    let values = (0..h)
        .flat_map(|r| (0..w).map(move |c| (r, c)))
        .map(|(r, c)| match plane {
            Plane::Axial => *v.get(c, r, at[2]),
            Plane::Coronal => *v.get(c, at[1], nz - 1 - r),
            Plane::Sagittal => *v.get(at[0], c, nz - 1 - r),
        })
        .collect();
    Cut {
        w,
        h,
        px_mm,
        values,
    }
}

/// Dose colour map from blue (low) through green and yellow to red (≥ 1).
fn colour(t: f64) -> [u8; 3] {
    let stops = [
        (0.0, [0.0, 0.0, 0.6]),
        (0.3, [0.0, 0.5, 1.0]),
        (0.55, [0.0, 0.85, 0.3]),
        (0.8, [1.0, 0.9, 0.0]),
        (1.0, [1.0, 0.0, 0.0]),
    ];
    let t = t.clamp(0.0, 1.0);
    let k = stops.iter().position(|s| s.0 >= t).unwrap_or(4).max(1);
    let ((t0, c0), (t1, c1)) = (stops[k - 1], stops[k]);
    let f = (t - t0) / (t1 - t0);
    [0, 1, 2].map(|a| ((c0[a] + f * (c1[a] - c0[a])) * 255.0) as u8)
}

/// PNG of the CT cut (soft-tissue window −160…240 HU) with the dose washed
/// over it from `floor_gy` (opacity 0.5), colour scaled to `scale_gy`.
fn wash_png(ct: &Cut<f32>, dose: &Cut<f32>, floor_gy: f64, scale_gy: f64) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(ct.w * ct.h * 3);
    for (hu, d) in ct.values.iter().zip(&dose.values) {
        let grey = ((f64::from(*hu) + 160.0) / 400.0).clamp(0.0, 1.0) * 255.0;
        let d = f64::from(*d);
        let px = if d >= floor_gy {
            let c = colour(d / scale_gy);
            c.map(|v| (0.5 * grey + 0.5 * f64::from(v)) as u8)
        } else {
            [grey as u8; 3]
        };
        rgb.extend(px);
    }
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, ct.w as u32, ct.h as u32);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().expect("PNG header to memory");
    writer.write_image_data(&rgb).expect("PNG data to memory");
    writer.finish().expect("PNG to memory");
    out
}

/// SVG path data of the outlines of `inside` on a cut, in mm.
fn outline_path(inside: &Cut<bool>) -> String {
    let mut d = String::new();
    for poly in mask_outlines(&inside.values, inside.w, inside.h) {
        for (n, [u, v]) in poly.iter().enumerate() {
            let (x, y) = ((u + 0.5) * inside.px_mm[0], (v + 0.5) * inside.px_mm[1]);
            let _ = write!(d, "{}{x:.1},{y:.1} ", if n == 0 { "M" } else { "L" });
        }
        d.push_str("Z ");
    }
    d
}

/// One dose-wash panel as inline SVG.
fn panel(
    ct: &Volume<f32>,
    dose: &Volume<f32>,
    structures: &Structures,
    plane: Plane,
    at: [usize; 3],
    rx_gy: f64,
) -> String {
    let ct_cut = cut(ct, plane, at);
    let dose_cut = cut(dose, plane, at);
    let png = wash_png(&ct_cut, &dose_cut, 0.1 * rx_gy, 1.07 * rx_gy);
    let (w_mm, h_mm) = (
        ct_cut.w as f64 * ct_cut.px_mm[0],
        ct_cut.h as f64 * ct_cut.px_mm[1],
    );
    let mut svg = format!(
        r#"<svg viewBox="0 0 {w_mm:.1} {h_mm:.1}" width="{:.0}" height="{:.0}"><image href="data:image/png;base64,{}" width="{w_mm:.1}" height="{h_mm:.1}" preserveAspectRatio="none" style="image-rendering:pixelated"/>"#,
        w_mm * 1.6,
        h_mm * 1.6,
        base64::engine::general_purpose::STANDARD.encode(png)
    );
    for (level, colour) in ISODOSES {
        let inside = Cut {
            w: dose_cut.w,
            h: dose_cut.h,
            px_mm: dose_cut.px_mm,
            values: dose_cut
                .values
                .iter()
                .map(|d| f64::from(*d) >= level * rx_gy)
                .collect(),
        };
        let d = outline_path(&inside);
        let _ = write!(
            svg,
            r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="0.8"/>"#
        );
    }
    for (name, colour) in OUTLINES {
        if let Some((_, mask)) = structures.list.iter().find(|(n, _)| n == name) {
            let d = outline_path(&cut(mask, plane, at));
            let _ = write!(
                svg,
                r#"<path d="{d}" fill="none" stroke="{colour}" stroke-width="0.6" stroke-dasharray="2,1"/>"#
            );
        }
    }
    svg + "</svg>"
}

/// The overlaid cumulative DVHs as inline SVG: colour per structure, dash
/// pattern per plan.
fn dvh_svg(reports: &[PlanReport], names: &[(&str, &str)]) -> String {
    let (w, h, left, bottom) = (760.0, 420.0, 60.0, 40.0);
    let (pw, ph) = (w - left - 170.0, h - bottom - 20.0);
    let max = reports
        .iter()
        .flat_map(|r| r.dvhs.iter().map(|(_, d)| d.max_gy()))
        .fold(1.0, f64::max);
    let x_max = (max / 10.0).ceil() * 10.0;
    let (x, y) = (
        |d: f64| left + d / x_max * pw,
        |v: f64| 20.0 + (1.0 - v / 100.0) * ph,
    );
    let dashes = ["", "6,3", "2,2", "8,3,2,3"];
    let mut s = format!(r#"<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}" font-size="12">"#);
    let _ = write!(
        s,
        r##"<rect x="{left}" y="20" width="{pw}" height="{ph}" fill="none" stroke="#444"/>"##
    );
    for k in 0..=10 {
        let v = 10.0 * f64::from(k);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{y0:.1}" y2="{y0:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{v}</text>"##,
            left + pw,
            left - 4.0,
            y(v) + 4.0,
            y0 = y(v)
        );
    }
    let ticks = (x_max / 10.0) as usize;
    for k in 0..=ticks {
        let d = 10.0 * k as f64;
        let _ = write!(
            s,
            r##"<line y1="20" y2="{}" x1="{x0:.1}" x2="{x0:.1}" stroke="#ddd"/><text x="{x0:.1}" y="{}" text-anchor="middle">{d}</text>"##,
            20.0 + ph,
            20.0 + ph + 16.0,
            x0 = x(d)
        );
    }
    let _ = write!(
        s,
        r#"<text x="{}" y="{}" text-anchor="middle">dose ({})</text><text x="14" y="{}" transform="rotate(-90 14 {})" text-anchor="middle">volume (%)</text>"#,
        left + pw / 2.0,
        h - 4.0,
        reports.first().map_or("Gy", |r| r.dose_unit.as_str()),
        20.0 + ph / 2.0,
        20.0 + ph / 2.0
    );
    for (p, r) in reports.iter().enumerate() {
        for (name, colour) in names {
            if let Some((_, dvh)) = r.dvhs.iter().find(|(n, _)| n == name) {
                let points: String = dvh
                    .curve(x_max / 400.0)
                    .iter()
                    .map(|(d, pct, _)| format!("{:.1},{:.1} ", x(*d), y(*pct)))
                    .collect();
                let _ = write!(
                    s,
                    r#"<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6" stroke-dasharray="{}"/>"#,
                    dashes[p % dashes.len()]
                );
            }
        }
    }
    let mut ly = 30.0;
    for (name, colour) in names {
        let _ = write!(
            s,
            r#"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="{colour}" stroke-width="3"/><text x="{}" y="{}">{name}</text>"#,
            w - 160.0,
            w - 135.0,
            w - 128.0,
            ly + 4.0
        );
        ly += 18.0;
    }
    for (p, r) in reports.iter().enumerate() {
        let _ = write!(
            s,
            r##"<line x1="{}" x2="{}" y1="{ly}" y2="{ly}" stroke="#222" stroke-width="1.6" stroke-dasharray="{}"/><text x="{}" y="{}">{}</text>"##,
            w - 160.0,
            w - 135.0,
            dashes[p % dashes.len()],
            w - 128.0,
            ly + 4.0,
            r.plan
        );
        ly += 18.0;
    }
    s + "</svg>"
}

/// "modality" or "modality, machine" for a plan's headings.
fn plan_kind(r: &PlanReport) -> String {
    match &r.machine {
        Some(m) => format!("{}, {m}", r.modality),
        None => r.modality.clone(),
    }
}

/// Writes `report.html` into `dir`: `ct` (HU on the CT grid), the evaluated
/// plans, `rx_gy` the prescription (or the largest plan maximum without one).
pub fn write_report(
    dir: &Path,
    title: &str,
    ct: &Volume<f32>,
    structures: &Structures,
    reports: &[PlanReport],
    rx_gy: Option<f64>,
    grid_mm: f64,
) -> Result<(), super::Error> {
    let rx = rx_gy.unwrap_or_else(|| {
        reports
            .iter()
            .map(|r| f64::from(r.dose_on_ct.min_max().1))
            .fold(1.0, f64::max)
    });
    // Cuts through the target's centre (or the CT's centre).
    let g = ct.grid();
    let centre = structures
        .target
        .as_ref()
        .and_then(|t| structures.list.iter().find(|(n, _)| n == t))
        .and_then(|(_, m)| m.centroid_mm())
        .and_then(|c| g.voxel_of(&c))
        .unwrap_or_else(|| g.shape().map(|n| n / 2));
    let mut html = String::from(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ferrodose report</title><style>\
         body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse}\
         td,th{border:1px solid #ccc;padding:4px 10px;text-align:right}td:first-child,th:first-child{text-align:left}\
         .pass{background:#dcfce7}.fail{background:#fee2e2}.panels{display:flex;gap:12px;align-items:flex-start;flex-wrap:wrap}\
         .key span{display:inline-block;margin-right:14px}</style></head><body>",
    );
    let _ = write!(html, "<h1>{title}</h1>");
    let unit = reports.first().map_or("Gy", |r| r.dose_unit.as_str());
    let _ = write!(
        html,
        "<p>Prescription {} {unit}; dose grid {grid_mm} mm; CT grid {:?} voxels of {:?} mm.</p>",
        rx_gy.map_or("none".to_owned(), |r| format!("{r}")),
        g.shape(),
        g.spacing_mm()
    );
    // Metrics side by side, constraints coloured.
    html.push_str("<h2>Metrics</h2><table><tr><th></th>");
    for r in reports {
        let _ = write!(html, "<th>{} ({})</th>", r.plan, plan_kind(r));
    }
    html.push_str("</tr>");
    for (label, cells) in comparison_rows(reports) {
        let _ = write!(html, "<tr><td>{label}</td>");
        for c in cells {
            let _ = write!(html, "<td>{c}</td>");
        }
        html.push_str("</tr>");
    }
    let n_constraints = reports
        .iter()
        .map(|r| r.constraints.len())
        .max()
        .unwrap_or(0);
    for k in 0..n_constraints {
        let label = reports
            .iter()
            .find_map(|r| r.constraints.get(k))
            .map(|c| format!("{}: {}", c.constraint.structure, c.text))
            .unwrap_or_default();
        let _ = write!(html, "<tr><td>{label}</td>");
        for r in reports {
            match r.constraints.get(k) {
                Some(c) => {
                    let _ = write!(
                        html,
                        "<td class=\"{}\">{:.1} {}</td>",
                        if c.pass { "pass" } else { "fail" },
                        c.value,
                        if c.pass { "pass" } else { "fail" }
                    );
                }
                None => html.push_str("<td>–</td>"),
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("<tr><td>device, time</td>");
    for r in reports {
        let _ = write!(html, "<td>{}, {:.0} s</td>", r.device, r.seconds);
    }
    html.push_str("</tr></table>");

    // DVHs.
    let mut names: Vec<(&str, &str)> = Vec::new();
    if let Some(t) = &structures.target {
        names.push((t.as_str(), "#ff00ff"));
    }
    for (n, c) in [
        ("NormalLiver", "#a16207"),
        ("Stomach", "#06b6d4"),
        ("Duodenum", "#14b8a6"),
        ("Kidney_R", "#8b5cf6"),
        ("SpinalCord", "#ca8a04"),
    ] {
        if structures.list.iter().any(|(s, _)| s == n) {
            names.push((n, c));
        }
    }
    html.push_str("<h2>Dose–volume histograms</h2>");
    html.push_str(&dvh_svg(reports, &names));

    // Dose washes.
    html.push_str(
        "<h2>Dose distributions</h2><p class=\"key\">Isodose lines (% of prescription): ",
    );
    for (level, colour) in ISODOSES {
        let _ = write!(
            html,
            "<span style=\"color:{colour}\">■ {:.0} %</span>",
            level * 100.0
        );
    }
    html.push_str("<br>Outlines (dashed): ");
    for (name, colour) in OUTLINES {
        if structures.list.iter().any(|(n, _)| n == name) {
            let _ = write!(html, "<span style=\"color:{colour}\">■ {name}</span>");
        }
    }
    html.push_str("</p>");
    for r in reports {
        let _ = write!(
            html,
            "<h3>{} ({}, {})</h3><div class=\"panels\">",
            r.plan,
            plan_kind(r),
            r.dose_unit
        );
        for plane in [Plane::Axial, Plane::Coronal, Plane::Sagittal] {
            html.push_str(&panel(ct, &r.dose_on_ct, structures, plane, centre, rx));
        }
        html.push_str("</div>");
    }
    html.push_str("</body></html>\n");
    write_atomic(&dir.join("report.html"), html.as_bytes())
}
