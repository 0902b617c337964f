//! Every setting of `pixfront serve`: an environment variable (SIH's names where SIH has one)
//! and the same as a flag. One table drives the flags, `serve --help` and the docs check, so
//! a new variable cannot be forgotten in one of them.

use std::collections::HashMap;

pub use super::setting_table::{Setting, SETTINGS};

/// The values given on the command line or in the environment (flags win), by variable name.
#[derive(Debug, Clone, Default)]
pub struct ServeArgs {
    pub values: HashMap<&'static str, String>,
}

impl ServeArgs {
    pub fn get(&self, env: &str) -> Option<String> {
        self.values.get(env).cloned()
    }
}

impl clap::FromArgMatches for ServeArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        let mut values = HashMap::new();
        for s in SETTINGS {
            if let Some(v) = m.get_one::<String>(s.flag) {
                values.insert(s.env, v.clone());
            }
        }
        Ok(ServeArgs { values })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

impl clap::Args for ServeArgs {
    fn augment_args(mut cmd: clap::Command) -> clap::Command {
        for s in SETTINGS {
            let help = if s.default.is_empty() {
                s.help.to_string()
            } else {
                format!("{} [default: {}]", s.help, s.default)
            };
            let mut arg = clap::Arg::new(s.flag)
                .long(s.flag)
                .env(s.env)
                .value_name("VALUE")
                .help(help);
            // Switches (default No) may be given bare: `--s3` means `--s3 Yes`.
            if s.default == "No" {
                arg = arg.num_args(0..=1).default_missing_value("Yes");
            }
            cmd = cmd.arg(arg);
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[test]
    fn every_config_variable_has_a_setting() {
        let asked = RefCell::new(Vec::<String>::new());
        crate::config::Config::from_lookup(|k| {
            asked.borrow_mut().push(k.to_string());
            None
        })
        .unwrap();
        for k in asked.into_inner() {
            assert!(
                SETTINGS.iter().any(|s| s.env == k),
                "{k} is read by Config but has no flag"
            );
        }
    }

    #[test]
    fn queue_and_in_flight_limits() {
        let c = crate::config::Config::from_lookup(|k| (k == "MAX_QUEUE").then(|| "0".to_string())).unwrap();
        assert_eq!(c.http.queue_limit(), 0, "0 means no waiting");
        let d = crate::config::Config::from_lookup(|_| None).unwrap();
        assert!(d.http.in_flight_limit() >= 1);
        assert_eq!(d.http.queue_limit(), 8 * d.http.in_flight_limit());
        let e =
            crate::config::Config::from_lookup(|k| (k == "MAX_IN_FLIGHT").then(|| "3".to_string())).unwrap();
        assert_eq!((e.http.in_flight_limit(), e.http.queue_limit()), (3, 24));
    }

    #[test]
    fn documented_in_configuration_md() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/configuration.md")).unwrap();
        for s in SETTINGS {
            assert!(
                doc.contains(&format!("`{}`", s.env)),
                "{} missing from docs/configuration.md",
                s.env
            );
            assert!(
                doc.contains(&format!("`--{}`", s.flag)),
                "--{} missing from docs/configuration.md",
                s.flag
            );
        }
    }
}
