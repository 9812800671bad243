//! `ferrodose phantom NAME --out DIR`.

use super::output::prepare_dir;
use ferrodose_phantom::{BuiltPhantom, Phantom};
use ferrodose_rtio::{
    uid_from_key, write_ct_series, write_structure_set, CtSeries, RoiOut, SeriesInfo,
};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Phantom name: water, slab or liver.
    name: String,
    /// Output directory (created; must be empty unless --force).
    #[arg(long)]
    out: PathBuf,
    /// Write into a non-empty directory, replacing files of the same name.
    #[arg(long)]
    force: bool,
}

/// The phantom as a CT series with reproducible UIDs derived from its name.
pub fn phantom_ct(p: &BuiltPhantom) -> CtSeries {
    let key = |what: &str| uid_from_key(&format!("ferrodose phantom {} {what}", p.name));
    let nz = p.hu.grid().shape()[2];
    CtSeries {
        hu: p.hu.clone(),
        info: SeriesInfo {
            patient_name: format!("FERRODOSE^{}", p.name.to_uppercase()),
            patient_id: format!("FD-PHANTOM-{}", p.name.to_uppercase()),
            study_instance_uid: key("study"),
            series_instance_uid: key("ct series"),
            frame_of_reference_uid: key("frame of reference"),
            patient_position: p.patient_position,
            slice_instance_uids: (0..nz).map(|k| key(&format!("slice {k}"))).collect(),
        },
    }
}

pub fn run(args: Args) -> Result<(), super::Error> {
    let built = Phantom::builtin(&args.name)?.build()?;
    prepare_dir(&args.out, args.force)?;
    let (slices, rois) = write_phantom(&built, &args.out)?;
    let [nx, ny, _] = built.hu.grid().shape();
    println!(
        "wrote phantom '{}' to {}: {slices} CT slices of {nx}×{ny} voxels and RS.dcm with {rois} ROIs",
        built.name,
        args.out.display()
    );
    Ok(())
}

/// Writes a phantom's CT series and RT Structure Set into `dir` (created);
/// returns the number of slices and ROIs.
pub fn write_phantom(
    built: &BuiltPhantom,
    dir: &std::path::Path,
) -> Result<(usize, usize), super::Error> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: cannot create: {e}", dir.display()))?;
    let ct = phantom_ct(built);
    write_ct_series(dir, &ct)?;
    let rois: Vec<RoiOut> = built
        .rois
        .iter()
        .map(|(r, m)| RoiOut {
            name: &r.name,
            interpreted_type: &r.interpreted_type,
            colour: r.colour,
            mask: m,
        })
        .collect();
    write_structure_set(&dir.join("RS.dcm"), &ct, &built.name, &rois)?;
    Ok((ct.hu.grid().shape()[2], rois.len()))
}
