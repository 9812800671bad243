//! GPU compute for ferrodose over wgpu (Vulkan, Metal, DX12), with a CPU twin
//! for every kernel.
//!
//! Each kernel is one WGSL file in `shaders/` and one Rust file of the same name
//! in [`cpu`] taking the same `Pod` parameters and buffers. The CPU twin is the
//! specification: parity tests run both on random and realistic inputs.

mod context;
pub mod cpu;
mod kernels;

pub use context::{GpuContext, GpuError, WORKGROUP};
pub use kernels::{
    CompressedRows, InfluenceError, IonInfluence, IonInfluenceParams, IonKernelSpot, IonPbDose,
    IonPbParams, IonPbSpot, IonSegment, PhotonInfluence, PhotonInfluenceParams, PhotonPbDose,
    PhotonPbElement, PhotonPbParams, PiecewiseLinear, PiecewiseLinearParams, RowsDifference,
    SparseError, SparseMatVec, SparseMatVecParams, TableError, WedProfileParams, WedProfiles,
    WedRay, GY_PER_MEV_CM2_G_PER_MM2, PHOTON_KERNEL_GAUSSIANS,
};

/// Which device the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DevicePreference {
    /// A GPU if one is found, otherwise the CPU.
    #[default]
    Auto,
    /// A GPU or an error.
    Gpu,
    /// The CPU (rayon) path.
    Cpu,
}

/// Where kernels run.
pub enum Backend {
    Gpu(Box<GpuContext>),
    /// The CPU path; `reason` says why no GPU is used, when one was wanted.
    Cpu {
        reason: Option<String>,
    },
}

impl Backend {
    /// Opens the backend for a preference: `Auto` takes a hardware GPU and
    /// otherwise the CPU path, with the reason; `Gpu` takes any adapter, a
    /// software one (lavapipe) included, and fails when none works.
    pub fn select(pref: DevicePreference) -> Result<Self, GpuError> {
        match pref {
            DevicePreference::Cpu => Ok(Self::Cpu { reason: None }),
            DevicePreference::Gpu => GpuContext::new().map(|c| Self::Gpu(Box::new(c))),
            DevicePreference::Auto => Ok(match GpuContext::new() {
                // A software Vulkan device (lavapipe) runs on the same cores
                // as the CPU twin and is slower than it: prefer the twin.
                Ok(c) if c.info.device_type == wgpu::DeviceType::Cpu => Self::Cpu {
                    reason: Some(format!(
                        "only a software GPU was found ({}); the CPU path is faster, use --device gpu to force it",
                        c.describe()
                    )),
                },
                Ok(c) => Self::Gpu(Box::new(c)),
                Err(e) => Self::Cpu {
                    reason: Some(format!("{e}; using the CPU path")),
                },
            }),
        }
    }

    /// A one-line description: the adapter, or "CPU (rayon, N threads)".
    pub fn describe(&self) -> String {
        match self {
            Self::Gpu(ctx) => format!("GPU: {}", ctx.describe()),
            Self::Cpu { .. } => format!("CPU (rayon, {} threads)", rayon::current_num_threads()),
        }
    }
}
