//! Output directories: never overwrite earlier results unless asked to.

use std::path::Path;

/// Creates `dir`, refusing an existing non-empty directory unless `force`.
pub fn prepare_dir(dir: &Path, force: bool) -> Result<(), super::Error> {
    if dir.exists() {
        let non_empty = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .next()
            .is_some();
        if non_empty && !force {
            return Err(format!(
                "{} exists and is not empty; choose another --out or pass --force to overwrite",
                dir.display()
            )
            .into());
        }
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    Ok(())
}

/// Writes `bytes` to `path` under a temporary name first, then renames, so an
/// interrupted run never leaves a complete-looking partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), super::Error> {
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: no file name", path.display()))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.partial"));
    std::fs::write(&tmp, bytes).map_err(|e| format!("{}: cannot write: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: cannot write: {e}", path.display()))?;
    Ok(())
}
