//! Subcommands of the `pixfront` binary that are plain library calls (testable without a
//! process): `explain`, `sign`, `render` and `health`.

pub mod explain;
pub mod health;
pub mod render;
pub mod sign;
