//! Materials: elemental composition, density and mean excitation energy.

/// A material for charged-particle and photon transport.
#[derive(Debug, Clone, PartialEq)]
pub struct Material {
    pub name: String,
    /// Mass density (g/cm³).
    pub density_g_cm3: f64,
    /// Elements as (Z, atomic mass in g/mol, mass fraction); fractions sum to 1.
    pub elements: Vec<(u32, f64, f64)>,
    /// Mean excitation energy I (eV).
    pub i_ev: f64,
    /// Sternheimer density-effect parameters, if known.
    pub density_effect: Option<Sternheimer>,
    /// The Z of the Bethe shell term C/Z: electrons per formula unit for a
    /// compound (10 for H₂O), applied with the material's own I (Leo 1994).
    pub shell_z: f64,
}

/// Sternheimer's parameterisation of the density-effect correction δ(x),
/// x = log10(βγ): δ = 2 ln10·x − C̄ + a·(x1 − x)^m for x0 ≤ x < x1, 2 ln10·x − C̄ above.
/// (Sternheimer, Berger, Seltzer, At. Data Nucl. Data Tables 30:261, 1984.)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sternheimer {
    pub c_bar: f64,
    pub x0: f64,
    pub x1: f64,
    pub a: f64,
    pub m: f64,
}

/// Mean excitation energy of liquid water recommended by ICRU Report 90 (2016): 78 eV.
pub const WATER_I_ICRU90_EV: f64 = 78.0;
/// Mean excitation energy of liquid water used by ICRU Report 49 and NIST PSTAR: 75 eV.
pub const WATER_I_ICRU49_EV: f64 = 75.0;

impl Material {
    /// Liquid water (H₂O, 1.000 g/cm³) with mean excitation energy `i_ev`
    /// (78 eV per ICRU 90 for dose calculation; 75 eV to compare with PSTAR).
    /// Density-effect parameters for liquid water from Sternheimer et al. (1984).
    pub fn water(i_ev: f64) -> Self {
        Self {
            name: "water".into(),
            density_g_cm3: 1.0,
            elements: vec![(1, 1.00794, 0.111_894), (8, 15.9994, 0.888_106)],
            i_ev,
            density_effect: Some(Sternheimer {
                c_bar: 3.5017,
                x0: 0.2400,
                x1: 2.8004,
                a: 0.09116,
                m: 3.4773,
            }),
            shell_z: 10.0,
        }
    }

    /// Electrons per unit mass, Σ wᵢ Zᵢ/Aᵢ (mol/g).
    pub fn z_over_a(&self) -> f64 {
        self.elements
            .iter()
            .map(|(z, a, w)| w * f64::from(*z) / a)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn water_electron_density() {
        // Z/A of water = 10 / 18.0153 = 0.55509 mol/g.
        let w = Material::water(78.0);
        assert!((w.z_over_a() - 0.555_09).abs() < 1e-4, "{}", w.z_over_a());
    }
}
