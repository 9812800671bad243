//! Building DICOM data sets and writing them atomically.

use crate::error::{Result, RtioError};
use dicom_core::value::{DataSetSequence, PrimitiveValue};
use dicom_core::{DataElement, Tag, VR};
use dicom_dictionary_std::uids;
use dicom_object::mem::InMemElement;
use dicom_object::meta::FileMetaTableBuilder;
use dicom_object::InMemDicomObject;
use std::path::Path;

/// An element with a primitive value.
pub fn el(tag: Tag, vr: VR, value: impl Into<PrimitiveValue>) -> InMemElement {
    DataElement::new(tag, vr, value.into())
}

/// A sequence element.
pub fn seq(tag: Tag, items: Vec<InMemDicomObject>) -> InMemElement {
    DataElement::new(tag, VR::SQ, DataSetSequence::from(items))
}

/// A data set from elements.
pub fn dataset(elements: impl IntoIterator<Item = InMemElement>) -> InMemDicomObject {
    InMemDicomObject::from_element_iter(elements)
}

/// A decimal string (DS) of at most 16 characters that parses back to the
/// closest value it can hold.
pub fn ds(v: f64) -> String {
    let plain = format!("{v}");
    if plain.len() <= 16 {
        return plain;
    }
    (0..=10)
        .rev()
        .map(|p| format!("{v:.p$e}"))
        .find(|s| s.len() <= 16)
        .expect("a 1-digit mantissa always fits")
}

/// A multi-valued DS element.
pub fn ds_multi(tag: Tag, values: &[f64]) -> InMemElement {
    el(
        tag,
        VR::DS,
        PrimitiveValue::Strs(values.iter().map(|v| ds(*v)).collect()),
    )
}

/// A multi-valued decimal string with a fixed number of decimals (contour data).
pub fn ds_multi_fixed(tag: Tag, values: &[f64], decimals: usize) -> InMemElement {
    el(
        tag,
        VR::DS,
        PrimitiveValue::Strs(values.iter().map(|v| format!("{v:.decimals$}")).collect()),
    )
}

/// Writes a data set as a Part 10 file (explicit VR little endian). The file is
/// written under a temporary name in the same directory and renamed, so an
/// interrupted write never leaves a complete-looking file behind.
pub fn write_file(path: &Path, obj: InMemDicomObject) -> Result<()> {
    let werr = |reason: String| RtioError::Write {
        path: path.to_owned(),
        reason,
    };
    let file = obj
        .with_meta(FileMetaTableBuilder::new().transfer_syntax(uids::EXPLICIT_VR_LITTLE_ENDIAN))
        .map_err(|e| werr(e.to_string()))?;
    let name = path
        .file_name()
        .ok_or_else(|| werr("no file name".into()))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    file.write_to_file(&tmp).map_err(|e| werr(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| werr(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::ds;

    #[test]
    fn decimal_strings_fit_16_chars() {
        for v in [
            0.0,
            1.5,
            -250.0,
            1.0 / 3.0,
            1.23456789e-9,
            -9.87654321e12,
            2.5e-300,
        ] {
            let s = ds(v);
            assert!(s.len() <= 16, "{s}");
            let back: f64 = s.parse().unwrap();
            assert!((back - v).abs() <= v.abs() * 1e-9, "{v} -> {s}");
        }
    }
}
