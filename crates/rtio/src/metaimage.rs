//! Volumes that DICOM RT has no object for (LETd, dose-mean α) as MetaImage
//! (`.mha`: a text header and little-endian f32 voxels in one file), which
//! 3D Slicer, ITK-SNAP and SimpleITK read with the patient geometry.

use crate::{Result, RtioError};
use ferrodose_grid::Volume;
use std::io::Write;
use std::path::Path;

/// Writes `volume` to `path` (temporary name, then rename), in patient
/// coordinates (mm): origin = centre of voxel (0, 0, 0), i fastest.
pub fn write_metaimage(path: &Path, volume: &Volume<f32>) -> Result<()> {
    let werr = |reason: String| RtioError::Write {
        path: path.to_owned(),
        reason,
    };
    let g = volume.grid();
    let o = g.origin_mm();
    let [nx, ny, nz] = g.shape();
    let [sx, sy, sz] = g.spacing_mm();
    let axes: Vec<String> = (0..3)
        .flat_map(|a| {
            let v = g.axis(a);
            [v.x, v.y, v.z]
        })
        .map(|c| c.to_string())
        .collect();
    let header = format!(
        "ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = False\n\
         CompressedData = False\nTransformMatrix = {}\nOffset = {} {} {}\n\
         AnatomicalOrientation = RAI\nElementSpacing = {sx} {sy} {sz}\nDimSize = {nx} {ny} {nz}\n\
         ElementType = MET_FLOAT\nElementDataFile = LOCAL\n",
        axes.join(" "),
        o.x,
        o.y,
        o.z
    );
    let name = path
        .file_name()
        .ok_or_else(|| werr("no file name".into()))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let mut bytes = header.into_bytes();
    bytes.extend(volume.data().iter().flat_map(|v| v.to_le_bytes()));
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&bytes).and_then(|_| f.sync_all()))
        .map_err(|e| werr(e.to_string()))?;
    std::fs::rename(&tmp, path).map_err(|e| werr(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferrodose_grid::{Grid, Point3};

    /// Header fields and the voxel block read back as written.
    #[test]
    fn header_and_voxels() {
        let grid = Grid::axial([3, 2, 2], [1.0, 2.0, 3.0], Point3::new(-5.0, 0.5, 7.0)).unwrap();
        let data: Vec<f32> = (0..12).map(|i| i as f32 * 0.5).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("letd.mha");
        write_metaimage(&path, &Volume::from_vec(grid, data.clone())).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let marker = b"ElementDataFile = LOCAL\n";
        let end = bytes
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap()
            + marker.len();
        let header = std::str::from_utf8(&bytes[..end]).unwrap();
        assert!(header.contains("DimSize = 3 2 2\n"), "{header}");
        assert!(header.contains("ElementSpacing = 1 2 3\n"));
        assert!(header.contains("Offset = -5 0.5 7\n"));
        let voxels: Vec<f32> = bytes[end..]
            .chunks(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(voxels, data);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
