//! Errors of DICOM-RT input and output; each names the file and the problem.

use std::path::PathBuf;

/// A DICOM-RT import or export failure.
#[derive(Debug, thiserror::Error)]
pub enum RtioError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a readable DICOM file (truncated or malformed): {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: missing or invalid {attribute}: {reason}")]
    Attribute {
        path: PathBuf,
        attribute: &'static str,
        reason: String,
    },
    #[error("{path}: transfer syntax {uid} ({name}) is not supported; ferrodose reads uncompressed little-endian data (explicit or implicit VR): decompress the files first, for example with dcmdjpeg or gdcmconv --raw")]
    UnsupportedTransferSyntax {
        path: PathBuf,
        uid: String,
        name: &'static str,
    },
    #[error("{dir}: {problem}")]
    Series { dir: PathBuf, problem: String },
    #[error("{path}: {problem}")]
    Content { path: PathBuf, problem: String },
    #[error("{path}: cannot write: {reason}")]
    Write { path: PathBuf, reason: String },
}

/// Result of DICOM-RT input and output.
pub type Result<T> = std::result::Result<T, RtioError>;
