//! Weight optimisation shared by the dose engines: the sparse dose-influence
//! matrix and the objectives (squared deviation, minimum, maximum, mean, DVH)
//! minimised over non-negative weights by projected gradient descent.

pub mod matrix;
pub mod optimise;

pub use matrix::{CoarseMismatch, CoarsePart, InfluenceMatrix};
pub use optimise::{objective_voxels, optimise, uniform_start, Objective, Optimised};
