//! Subcommands of the `pixfront` binary that are plain library calls (testable without a
//! process): `explain`, `sign` and `render`.

pub mod explain;
pub mod render;
pub mod sign;
