//! CPU twins of the WGSL kernels in `shaders/`, one file per kernel with the
//! kernel's name; each takes the same `Pod` parameters and buffers as its shader.

mod piecewise_linear;

pub use piecewise_linear::piecewise_linear;
