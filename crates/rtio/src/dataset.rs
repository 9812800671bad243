//! Reading DICOM files and typed attribute access with errors that name file and tag.

use crate::error::{Result, RtioError};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::{mem::InMemElement, DefaultDicomObject, InMemDicomObject, OpenFileOptions};
use std::path::{Path, PathBuf};

/// Transfer syntaxes whose pixel data ferrodose reads as raw little-endian words.
const NATIVE_LITTLE_ENDIAN: [&str; 2] = ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1"];

/// One opened DICOM file and where it came from.
pub struct DicomFile {
    pub path: PathBuf,
    pub obj: DefaultDicomObject,
}

/// Whether a file starts like a DICOM Part 10 file (128-byte preamble + "DICM").
pub fn looks_like_dicom(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 132];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && &head[128..132] == b"DICM"
}

impl DicomFile {
    /// Opens and parses a whole DICOM Part 10 file.
    pub fn open(path: &Path) -> Result<Self> {
        let obj = OpenFileOptions::new()
            .open_file(path)
            .map_err(|e| RtioError::Malformed {
                path: path.to_owned(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            path: path.to_owned(),
            obj,
        })
    }

    /// SOP Class UID from the file meta information.
    pub fn sop_class_uid(&self) -> String {
        trim_uid(self.obj.meta().media_storage_sop_class_uid())
    }

    /// The file's transfer syntax UID.
    pub fn transfer_syntax(&self) -> String {
        trim_uid(self.obj.meta().transfer_syntax())
    }

    /// Refuses compressed or big-endian transfer syntaxes, naming them.
    pub fn require_native_pixels(&self) -> Result<()> {
        let uid = self.transfer_syntax();
        if NATIVE_LITTLE_ENDIAN.contains(&uid.as_str()) {
            return Ok(());
        }
        Err(RtioError::UnsupportedTransferSyntax {
            path: self.path.clone(),
            name: transfer_syntax_name(&uid),
            uid,
        })
    }

    /// Attribute access on the file's top-level data set.
    pub fn ds(&self) -> Attrs<'_> {
        Attrs {
            path: &self.path,
            obj: &self.obj,
        }
    }
}

/// Typed attribute access on one data set (top level or a sequence item).
#[derive(Clone, Copy)]
pub struct Attrs<'a> {
    pub path: &'a Path,
    pub obj: &'a InMemDicomObject,
}

impl<'a> Attrs<'a> {
    fn missing(&self, attribute: &'static str, reason: impl Into<String>) -> RtioError {
        RtioError::Attribute {
            path: self.path.to_owned(),
            attribute,
            reason: reason.into(),
        }
    }

    fn element(&self, tag: Tag, name: &'static str) -> Result<&'a InMemElement> {
        self.obj
            .get(tag)
            .ok_or_else(|| self.missing(name, "attribute absent"))
    }

    /// A string attribute, trimmed of padding.
    pub fn str(&self, tag: Tag, name: &'static str) -> Result<String> {
        let v = self
            .element(tag, name)?
            .to_str()
            .map_err(|e| self.missing(name, e.to_string()))?;
        Ok(v.trim_matches(|c: char| c == '\0' || c.is_whitespace())
            .to_owned())
    }

    /// A string attribute if present.
    pub fn opt_str(&self, tag: Tag) -> Option<String> {
        self.obj.get(tag).and_then(|e| e.to_str().ok()).map(|v| {
            v.trim_matches(|c: char| c == '\0' || c.is_whitespace())
                .to_owned()
        })
    }

    /// A UID attribute, trimmed of padding.
    pub fn uid(&self, tag: Tag, name: &'static str) -> Result<String> {
        Ok(trim_uid(&self.str(tag, name)?))
    }

    /// A single integer.
    pub fn int(&self, tag: Tag, name: &'static str) -> Result<i64> {
        self.element(tag, name)?
            .to_int::<i64>()
            .map_err(|e| self.missing(name, e.to_string()))
    }

    /// A single finite number (DS, FD, IS …).
    pub fn float(&self, tag: Tag, name: &'static str) -> Result<f64> {
        self.element(tag, name)?
            .to_finite_float64()
            .map_err(|e| self.missing(name, e.to_string()))
    }

    /// Exactly `n` finite numbers.
    pub fn floats(&self, tag: Tag, name: &'static str, n: usize) -> Result<Vec<f64>> {
        let v = self.all_floats(tag, name)?;
        if v.len() != n {
            return Err(self.missing(name, format!("expected {n} values, found {}", v.len())));
        }
        Ok(v)
    }

    /// Any number of finite numbers.
    pub fn all_floats(&self, tag: Tag, name: &'static str) -> Result<Vec<f64>> {
        self.element(tag, name)?
            .to_multi_finite_float64()
            .map_err(|e| self.missing(name, e.to_string()))
    }

    /// Items of a sequence attribute (empty if absent).
    pub fn items(&self, tag: Tag) -> impl Iterator<Item = Attrs<'a>> + 'a {
        let path = self.path;
        self.obj
            .get(tag)
            .and_then(|e| e.items())
            .unwrap_or(&[])
            .iter()
            .map(move |obj| Attrs { path, obj })
    }

    /// The raw bytes of Pixel Data (native transfer syntaxes only).
    pub fn pixel_bytes(&self) -> Result<std::borrow::Cow<'a, [u8]>> {
        self.element(tags::PIXEL_DATA, "PixelData")?
            .to_bytes()
            .map_err(|e| self.missing("PixelData", e.to_string()))
    }
}

/// Removes the NUL/space padding of a UID string.
pub fn trim_uid(uid: &str) -> String {
    uid.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_owned()
}

/// A readable name for a transfer syntax UID, for error messages.
pub fn transfer_syntax_name(uid: &str) -> &'static str {
    match uid {
        "1.2.840.10008.1.2" => "Implicit VR Little Endian",
        "1.2.840.10008.1.2.1" => "Explicit VR Little Endian",
        "1.2.840.10008.1.2.1.99" => "Deflated Explicit VR Little Endian",
        "1.2.840.10008.1.2.2" => "Explicit VR Big Endian",
        "1.2.840.10008.1.2.4.50" => "JPEG Baseline",
        "1.2.840.10008.1.2.4.51" => "JPEG Extended",
        "1.2.840.10008.1.2.4.57" | "1.2.840.10008.1.2.4.70" => "JPEG Lossless",
        "1.2.840.10008.1.2.4.80" | "1.2.840.10008.1.2.4.81" => "JPEG-LS",
        "1.2.840.10008.1.2.4.90" | "1.2.840.10008.1.2.4.91" => "JPEG 2000",
        "1.2.840.10008.1.2.5" => "RLE Lossless",
        _ => "unknown or compressed",
    }
}
