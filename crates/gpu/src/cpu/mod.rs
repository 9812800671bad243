//! CPU twins of the WGSL kernels in `shaders/`, one file per kernel with the
//! kernel's name; each takes the same `Pod` parameters and buffers as its shader.

mod ion_pb_dose;
mod piecewise_linear;

pub use ion_pb_dose::{ion_pb_dose, pair_dose};
pub use piecewise_linear::piecewise_linear;
