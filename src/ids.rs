//! The ids several layers share. A leaf module: it imports nothing from this crate, so
//! `settings`, `dataverse`, `sweep`, `check` and `summary` can all use it without importing
//! each other.

use serde::{Serialize, Serializer};

/// A key checked to be a GUID, lowercased: the only key shape placed in a URL or a filter,
/// and compared with `==` because the case was settled when it was parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Guid(String);

impl Guid {
    /// `text` as a GUID, or `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        is_guid(text).then(|| Guid(text.to_ascii_lowercase()))
    }

    /// The GUID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The GUID's 128 bits: a key a sixth the size of the text, for sets that hold a whole
    /// sweep's sessions. Every digit is hex, as `parse` checked.
    pub fn to_u128(&self) -> u128 {
        self.0
            .chars()
            .filter_map(|c| c.to_digit(16))
            .fold(0, |bits, digit| bits << 4 | u128::from(digit))
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Guid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

// Lets tests and callers compare with the text they hold, in the lowercase a Guid keeps.
impl PartialEq<str> for Guid {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Guid {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<String> for Guid {
    fn eq(&self, other: &String) -> bool {
        &self.0 == other
    }
}

/// Whether `text` is a GUID (`8-4-4-4-12` hex digits).
pub fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_is_kept_in_lowercase_so_two_spellings_are_equal() {
        let upper = Guid::parse("6F1C2A3B-0000-4000-8000-00000000000A").unwrap();
        let lower = Guid::parse("6f1c2a3b-0000-4000-8000-00000000000a").unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.as_str(), "6f1c2a3b-0000-4000-8000-00000000000a");
    }

    #[test]
    fn a_guid_as_bits_is_its_hex_digits_so_two_guids_differ_there_too() {
        let a = Guid::parse("6f1c2a3b-0000-4000-8000-00000000000a").unwrap();
        let b = Guid::parse("6f1c2a3b-0000-4000-8000-00000000000b").unwrap();
        assert_eq!(a.to_u128(), 0x6f1c2a3b_0000_4000_8000_00000000000a);
        assert_ne!(a.to_u128(), b.to_u128());
    }

    #[test]
    fn text_that_is_not_a_guid_is_refused() {
        for text in [
            "",
            "abc",
            "x or 1 eq 1",
            "6f1c2a3b-0000-4000-8000-00000000000g",
        ] {
            assert!(Guid::parse(text).is_none(), "{text}");
        }
    }
}
