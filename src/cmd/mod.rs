//! One module per subcommand.

pub mod bench;
pub mod demo;
pub mod dvh;
pub mod evaluate;
pub mod gamma;
pub mod inspect;
pub mod output;
pub mod phantom;
pub mod photon_plan;
pub mod physics;
pub mod progress;
pub mod recalc;
pub mod report;
pub mod rt_plan;
pub mod run;

/// Errors of the runner: any library error, shown with its message.
pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A CT (HU) mapped through a Schneider calibration `quantity` (relative
/// electron density, relative stopping power) by the `piecewise_linear`
/// kernel on `backend`, knots every 5 HU.
pub fn calibrated(
    hu: &ferrodose_grid::Volume<f32>,
    quantity: fn(f64) -> f64,
    backend: &ferrodose_gpu::Backend,
) -> Result<ferrodose_grid::Volume<f32>, Error> {
    let knots = ferrodose_physics::calibration::knots(5.0, quantity);
    let data = ferrodose_gpu::PiecewiseLinear::new(knots)?.apply(backend, hu.data())?;
    Ok(ferrodose_grid::Volume::from_vec(hu.grid().clone(), data))
}
