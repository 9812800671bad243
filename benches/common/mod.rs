//! What the benches share: a CT mapped through a calibration on the CPU.

use ferrodose_gpu::{Backend, PiecewiseLinear};
use ferrodose_grid::Volume;

/// The CT `hu` mapped through the Schneider calibration `quantity`
/// (knots every 5 HU, the CPU twin of `piecewise_linear`).
pub fn calibrated(hu: &Volume<f32>, quantity: fn(f64) -> f64) -> Volume<f32> {
    let knots = ferrodose_physics::calibration::knots(5.0, quantity);
    let table = PiecewiseLinear::new(knots).expect("the calibration's knots are valid");
    let data = table
        .apply(&Backend::Cpu { reason: None }, hu.data())
        .expect("the CPU path runs");
    Volume::from_vec(hu.grid().clone(), data)
}
