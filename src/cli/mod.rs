//! Subcommands of the `pixfront` binary that are plain library calls (testable without a
//! process): `explain` and `sign`.

pub mod explain;
pub mod sign;
