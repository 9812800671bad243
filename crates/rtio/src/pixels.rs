//! Raw native pixel data (uncompressed, little endian) to stored values.

use crate::dataset::Attrs;
use crate::error::{Result, RtioError};
use dicom_dictionary_std::tags;

/// Image pixel layout of one (possibly multi-frame) image.
pub struct PixelLayout {
    pub rows: usize,
    pub columns: usize,
    pub frames: usize,
}

/// Stored pixel values (before rescale or dose scaling), frame after frame,
/// row-major within a frame. Checks the layout attributes and the data length.
pub fn stored_values(ds: &Attrs<'_>, layout: &PixelLayout) -> Result<Vec<f64>> {
    let bad = |attribute: &'static str, reason: String| RtioError::Attribute {
        path: ds.path.to_owned(),
        attribute,
        reason,
    };
    let samples = ds.int(tags::SAMPLES_PER_PIXEL, "SamplesPerPixel")?;
    if samples != 1 {
        return Err(bad(
            "SamplesPerPixel",
            format!("{samples}; only 1 (grey) is supported"),
        ));
    }
    let bits = ds.int(tags::BITS_ALLOCATED, "BitsAllocated")?;
    let signed = ds.int(tags::PIXEL_REPRESENTATION, "PixelRepresentation")? == 1;
    let bytes = ds.pixel_bytes()?;
    let n = layout.rows * layout.columns * layout.frames;
    let width = match bits {
        8 | 16 | 32 => bits as usize / 8,
        _ => {
            return Err(bad(
                "BitsAllocated",
                format!("{bits}; expected 8, 16 or 32"),
            ))
        }
    };
    if bytes.len() < n * width {
        return Err(RtioError::Content {
            path: ds.path.to_owned(),
            problem: format!(
                "PixelData holds {} bytes but {} rows × {} columns × {} frames × {} bytes need {} (truncated file?)",
                bytes.len(),
                layout.rows,
                layout.columns,
                layout.frames,
                width,
                n * width
            ),
        });
    }
    let values = bytes[..n * width]
        .chunks_exact(width)
        .map(|c| match (width, signed) {
            (1, false) => f64::from(c[0]),
            (1, true) => f64::from(c[0] as i8),
            (2, false) => f64::from(u16::from_le_bytes([c[0], c[1]])),
            (2, true) => f64::from(i16::from_le_bytes([c[0], c[1]])),
            (4, false) => f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            _ => f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        })
        .collect();
    Ok(values)
}
