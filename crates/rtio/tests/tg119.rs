//! Import of the CORT TG-119 case (Craft et al., GigaScience 3:37, 2014; CC BY 4.0)
//! from `../shared/data/tg119`, checked against its NumPy masks and geometry.

use ferrodose_rtio::Study;
use std::path::PathBuf;

fn tg119() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/tg119")
}

/// A minimal `.npy` (format 1.0, C order) reader for the test's reference arrays.
fn read_npy(path: &PathBuf, descr: &str) -> (Vec<usize>, Vec<u8>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(&bytes[..6], b"\x93NUMPY");
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    assert!(header.contains(&format!("'descr': '{descr}'")), "{header}");
    assert!(header.contains("'fortran_order': False"));
    let shape_txt = header
        .split("'shape': (")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    let shape = shape_txt
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse().unwrap())
        .collect();
    (shape, bytes[10 + hlen..].to_vec())
}

#[test]
fn tg119_geometry_hu_and_masks_match_reference() {
    let study = Study::load(&tg119().join("dicom")).expect("TG-119 imports");
    let g = study.ct.hu.grid();
    // geometry.json: shape (z, y, x) = (129, 167, 167), spacing (3, 3, 2.5) mm,
    // first voxel centre (-250, -250, -160) mm, axial HFS.
    assert_eq!(g.shape(), [167, 167, 129]);
    assert_eq!(g.spacing_mm(), [3.0, 3.0, 2.5]);
    assert_eq!(
        g.origin_mm(),
        ferrodose_grid::Point3::new(-250.0, -250.0, -160.0)
    );
    assert_eq!(g.axis(2), ferrodose_grid::Vector3::z());

    // HU equal to ct_hu.npy everywhere (z, y, x order = our i-fastest order).
    let (shape, raw) = read_npy(&tg119().join("npy/ct_hu.npy"), "<i2");
    assert_eq!(shape, vec![129, 167, 167]);
    let max_diff = raw
        .chunks_exact(2)
        .zip(study.ct.hu.data())
        .map(|(c, v)| (f32::from(i16::from_le_bytes([c[0], c[1]])) - v).abs())
        .fold(0.0f32, f32::max);
    assert_eq!(max_diff, 0.0, "HU differ from ct_hu.npy");

    let ss = study.structures.expect("RTSTRUCT present");
    assert!(ss.warnings.is_empty(), "{:?}", ss.warnings);
    for (name, kind) in [
        ("Core", "ORGAN"),
        ("OuterTarget", "PTV"),
        ("BODY", "EXTERNAL"),
    ] {
        let st = ss.get(name).unwrap();
        assert_eq!(st.interpreted_type, kind);
        let (_, m) = read_npy(&tg119().join(format!("npy/masks/{name}.npy")), "|u1");
        let reference =
            ferrodose_grid::Mask::from_vec(g.clone(), m.iter().map(|b| *b != 0).collect());
        let dice = st.mask.dice(&reference);
        let vol_err = (st.mask.volume_cc() - reference.volume_cc()).abs() / reference.volume_cc();
        eprintln!(
            "{name}: Dice {dice:.6}, volume {:.3} cc (reference {:.3} cc)",
            st.mask.volume_cc(),
            reference.volume_cc()
        );
        // Issue 2: Dice ≥ 0.99 and volume within 1 % per structure.
        assert!(dice >= 0.99, "{name}: Dice {dice}");
        assert!(
            vol_err <= 0.01,
            "{name}: volume off by {:.3} %",
            vol_err * 100.0
        );
    }
    assert!(ss
        .get("nonexistent")
        .unwrap_err()
        .to_string()
        .contains("OuterTarget"));
}
