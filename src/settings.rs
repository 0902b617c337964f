//! Reading settings: each domain owns a small typed struct (`request::RequestSettings`,
//! `pipeline::PipelineSettings`, `faces::FaceSettings`, `http::HttpSettings`, …) parsed from
//! variables through a [`Lookup`], so tests can hand a map instead of the environment. SIH's
//! booleans are the exact string `Yes`. [`crate::config::Config`] composes them for the front
//! ends; `pixfront serve`'s flag table (`server::settings`) names every variable.

/// Variable name → value, from the environment, the command line or a test's map.
pub struct Lookup<'a>(pub &'a dyn Fn(&str) -> Option<String>);

impl Lookup<'_> {
    pub fn get(&self, key: &str) -> Option<String> {
        (self.0)(key)
    }

    /// SIH's switches: on only for the exact string `Yes`.
    pub fn yes(&self, key: &str) -> bool {
        self.get(key).as_deref() == Some("Yes")
    }

    /// The value, unless unset or blank.
    pub fn non_empty(&self, key: &str) -> Option<String> {
        self.get(key).filter(|v| !v.trim().is_empty())
    }

    /// A whole number, `default` when unset or blank.
    pub fn number(&self, key: &str, default: u64) -> Result<u64, String> {
        match self.non_empty(key) {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse()
                .map_err(|_| format!("{key}: expected a whole number, got {v:?}")),
        }
    }

    /// One of `choices` (case-insensitive, returned lower-case), `None` when unset or blank.
    pub fn choice(&self, key: &str, choices: &[&str]) -> Result<Option<String>, String> {
        match self.non_empty(key) {
            None => Ok(None),
            Some(v) => {
                let lower = v.trim().to_ascii_lowercase();
                if choices.contains(&lower.as_str()) {
                    Ok(Some(lower))
                } else {
                    Err(format!("{key}: expected {}, got {v:?}", choices.join(" or ")))
                }
            }
        }
    }
}
