//! [`SimError`]: what can go wrong building a simulator.

use std::fmt;

/// Errors from building a simulator (seed files, arguments).
#[derive(Debug)]
pub enum SimError {
    /// The seed text is not valid JSON of the documented shape.
    Seed(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Seed(message) => write!(f, "invalid seed data: {message}"),
        }
    }
}

impl std::error::Error for SimError {}
