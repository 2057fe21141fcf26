//! What every Web API request carries, top level or inside a `$batch`: the path prefix,
//! headers with case-insensitive lookup, and the entity set and row a path addresses.

use crate::codec::percent_decode;
use crate::reply::{bad_query, Reply};

/// The path prefix of the Web API.
pub(crate) const API_PREFIX: &str = "/api/data/v9.2/";

/// Request headers with case-insensitive lookup.
#[derive(Clone, Debug, Default)]
pub(crate) struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of a header, if present.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// True when a `Prefer` header carries this preference (`name` or `name=value`).
    pub(crate) fn prefers(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("prefer"))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .find_map(|p| match p.split_once('=') {
                Some((n, v)) if n.trim().eq_ignore_ascii_case(name) => {
                    Some(v.trim().trim_matches('"').to_string())
                }
                None if p.eq_ignore_ascii_case(name) => Some(String::new()),
                _ => None,
            })
    }
}

/// The entity set and (optionally) the row a path addresses.
pub(crate) struct Resource {
    pub set: String,
    pub id: Option<String>,
}

/// Parses `set`, `set(<guid>)`, `set('<key>')` or `set(<pk>=<guid>)`.
pub(crate) fn parse_resource(path: &str) -> Result<Resource, Reply> {
    let path = percent_decode(path, false);
    if path.contains('/') {
        return Err(bad_query(format!(
            "The path '{path}' is not supported by dataverse-sim (only an entity set or one row)."
        )));
    }
    match path.split_once('(') {
        None => Ok(Resource {
            set: path,
            id: None,
        }),
        Some((set, rest)) => {
            let inner = rest.strip_suffix(')').ok_or_else(|| {
                bad_query(format!("Bad Request - Error in query syntax: '{path}'."))
            })?;
            let value = inner.split_once('=').map_or(inner, |(_, v)| v).trim();
            let id = value.trim_matches('\'').to_string();
            if id.is_empty() {
                return Err(bad_query(format!(
                    "Bad Request - Error in query syntax: '{path}'."
                )));
            }
            Ok(Resource {
                set: set.to_string(),
                id: Some(id),
            })
        }
    }
}
