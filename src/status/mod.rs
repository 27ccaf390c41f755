//! The operator's view: `GET /status` (HTML) and `GET /status.json` say what upkeep's
//! dependencies, queue, deliveries and budgets are doing, and which alerts are open. `model`
//! (pure) makes the page's facts from plain readings, `render` (pure) the HTML, and `gather`
//! (driver) reads them from the process and the store.

pub mod gather;
pub mod model;
pub mod render;
