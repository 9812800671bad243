//! `ferrodose physics table`: stopping power and CSDA range for physicists.

use ferrodose_physics::material::{WATER_I_ICRU49_EV, WATER_I_ICRU90_EV};
use ferrodose_physics::stopping::{mass_stopping_power, MAX_MEV_U};
use ferrodose_physics::{Ion, Material, RangeTable};

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    what: What,
}

#[derive(clap::Subcommand)]
enum What {
    /// CSV of energy (MeV or MeV/u), mass stopping power (MeV·cm²/g) and CSDA range (g/cm²).
    Table {
        /// proton or carbon.
        #[arg(long)]
        particle: String,
        /// Material name (water).
        #[arg(long, default_value = "water")]
        material: String,
        /// Comma-separated kinetic energies: MeV for protons, MeV/u for carbon.
        #[arg(long, value_delimiter = ',', required = true)]
        energies: Vec<f64>,
        /// Mean excitation energy of water in eV (78 per ICRU 90; 75 to compare with PSTAR).
        #[arg(long, default_value_t = WATER_I_ICRU90_EV)]
        i_ev: f64,
    },
    /// CSV of photon energy (MeV), μ/ρ and μ_en/ρ (cm²/g) from the NIST tables.
    Photon {
        /// water, air, lung, adipose or bone.
        #[arg(long, default_value = "water")]
        material: String,
        /// Comma-separated photon energies (MeV), 0.01 to 20.
        #[arg(long, value_delimiter = ',', required = true)]
        energies: Vec<f64>,
    },
    /// Generates a beam's photon pencil kernel in water by Monte Carlo and
    /// writes it as text (the format of crates/physics/data/photon_kernel_6mv.txt).
    PhotonKernel {
        /// Beam quality: 6MV or 10MV-FFF.
        #[arg(long, default_value = "6MV")]
        beam: String,
        /// Incident photons.
        #[arg(long, default_value_t = 10_000_000)]
        photons: u64,
        /// Random seed.
        #[arg(long, default_value_t = 2026)]
        seed: u64,
        /// Output file.
        #[arg(long)]
        out: std::path::PathBuf,
    },
    /// CSV of the Schneider (2000) CT calibration at the given CT numbers:
    /// mass density (g/cm³), relative electron density, RSP at 100 MeV, tissue bin, I (eV).
    Calibration {
        /// Comma-separated CT numbers (HU); clamped to −1000…2995.
        #[arg(
            long,
            value_delimiter = ',',
            required = true,
            allow_hyphen_values = true
        )]
        hu: Vec<f64>,
    },
}

pub fn run(args: Args) -> Result<(), super::Error> {
    match args.what {
        What::Table {
            particle,
            material,
            energies,
            i_ev,
        } => table(&particle, &material, energies, i_ev),
        What::Photon { material, energies } => {
            let m = ferrodose_physics::photon::PhotonMaterial::named(&material)?;
            let mut rows = Vec::with_capacity(energies.len());
            for e in energies {
                rows.push(format!(
                    "{e},{:.5e},{:.5e}",
                    m.mass_attenuation(e)?,
                    m.mass_energy_absorption(e)?
                ));
            }
            println!("energy_MeV,mu_over_rho_cm2_g,mu_en_over_rho_cm2_g");
            println!("{}", rows.join("\n"));
            Ok(())
        }
        What::PhotonKernel {
            beam,
            photons,
            seed,
            out,
        } => {
            use ferrodose_physics::photon_kernel::{KernelSettings, PhotonKernel};
            use ferrodose_physics::photon_spectrum::PhotonBeam;
            let beam = PhotonBeam::parse(&beam).ok_or_else(|| {
                format!(
                    "--beam {beam}: ferrodose has spectra for {}",
                    PhotonBeam::known_names()
                )
            })?;
            let settings = KernelSettings {
                photons,
                seed,
                ..KernelSettings::default()
            };
            let spectrum = beam.spectrum();
            let kernel = PhotonKernel::generate(&spectrum, &settings);
            super::output::write_atomic(&out, kernel.to_text(&settings).as_bytes())?;
            eprintln!(
                "{}: {photons} photons, radial fit error {:.4}, written to {}",
                spectrum.name,
                kernel.fit_error,
                out.display()
            );
            Ok(())
        }
        What::Calibration { hu } => {
            use ferrodose_physics::calibration as c;
            println!("hu,density_g_cm3,relative_electron_density,rsp_100MeV,tissue_bin,mean_excitation_eV");
            for h in hu {
                let bin = c::tissue_bin(h);
                println!(
                    "{h},{:.5},{:.5},{:.5},{bin},{:.1}",
                    c::density_g_cm3(h),
                    c::relative_electron_density(h),
                    c::relative_stopping_power(h),
                    c::mean_excitation_ev(bin)
                );
            }
            Ok(())
        }
    }
}

fn table(
    particle: &str,
    material: &str,
    energies: Vec<f64>,
    i_ev: f64,
) -> Result<(), super::Error> {
    let (ion, unit) = match particle {
        "proton" => (Ion::proton(), "MeV"),
        "carbon" => (Ion::carbon12(), "MeV/u"),
        other => {
            return Err(format!("unknown particle '{other}'; expected proton or carbon").into())
        }
    };
    let mat = match material {
        "water" => Material::water(i_ev),
        other => return Err(format!("unknown material '{other}'; available: water").into()),
    };
    if !(50.0..=100.0).contains(&i_ev) {
        return Err(format!(
            "--i-ev {i_ev} eV is implausible for water (ICRU 90: 78, ICRU 49: {WATER_I_ICRU49_EV})"
        )
        .into());
    }
    let table = RangeTable::new(ion, &mat, MAX_MEV_U)?;
    let mut rows = Vec::with_capacity(energies.len());
    for e in energies {
        let s = mass_stopping_power(&ion, e, &mat).map_err(|err| format!("{particle}: {err}"))?;
        rows.push(format!("{e},{s:.4},{:.5}", table.csda_range(e)?));
    }
    println!(
        "energy_{},mass_stopping_power_MeV_cm2_g,csda_range_g_cm2",
        unit.replace('/', "_per_")
    );
    println!("{}", rows.join("\n"));
    Ok(())
}
