//! Alpha edits: `flatten`, `removeAlpha`, `ensureAlpha` — `flatten`'s argument type; the other
//! two take plain values (see docs/edits.md, "Alpha").

use super::Color;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Flatten {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub background: Option<Color>,
}

/// `flatten`: `true` (black background) or `{background}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum FlattenArg {
    Bool(bool),
    Options(Flatten),
}
