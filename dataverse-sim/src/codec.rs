//! Small encoders the simulator needs and would otherwise pull crates for: URL
//! percent-encoding, hex (for opaque skip tokens) and a deterministic PRNG (for generated
//! data, GUIDs and tokens). Kept dependency-free on purpose: the sim is a test tool.

/// Splits `a=1&b=2` into decoded pairs, treating `+` as a space as a form/query decoder does.
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (percent_decode(k, true), percent_decode(v, true)),
            None => (percent_decode(pair, true), String::new()),
        })
        .collect()
}

/// Decodes `%XX` escapes (and `+` when `plus_is_space`); malformed escapes stay as written.
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                match (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 3;
                        continue;
                    }
                    _ => out.push(b'%'),
                }
            }
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Encodes a query component so that it survives a round trip through [`percent_decode`].
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~$(),':".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Lowercase hex of arbitrary bytes.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Inverse of [`hex_encode`]; `None` for odd length or non-hex characters.
pub(crate) fn hex_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(hex_value(pair[0])? * 16 + hex_value(pair[1])?))
        .collect()
}

/// SplitMix64: tiny, fast and deterministic for a given seed, which is all generated test
/// data needs (no `rand` crate, so outputs never change under a dependency bump).
#[derive(Clone, Debug)]
pub(crate) struct Prng(u64);

impl Prng {
    /// A generator that always yields the same sequence for the same seed.
    pub(crate) fn new(seed: u64) -> Self {
        Prng(seed)
    }

    /// A generator seeded from the clock, for values that must merely be unpredictable.
    pub(crate) fn from_clock() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        Prng(nanos ^ (&local as *const u8 as u64).rotate_left(32))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `low..high` (`low` when the range is empty).
    pub(crate) fn range(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = (high - low) as u64;
        low + (self.next_u64() % span) as i64
    }

    /// A lowercase version-4-shaped GUID, as Dataverse returns them.
    pub(crate) fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            ((b >> 48) & 0x3fff) | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_turns_plus_and_escapes_into_characters() {
        assert_eq!(
            percent_decode("statecode+eq%200%27x%27", true),
            "statecode eq 0'x'"
        );
    }

    #[test]
    fn percent_encoding_round_trips_through_decoding() {
        let text = "a eq 'b&c' and d le 2026-11-24T15:00:00+02:00";
        assert_eq!(percent_decode(&percent_encode(text), true), text);
    }

    #[test]
    fn the_prng_is_deterministic_for_a_seed() {
        assert_eq!(Prng::new(7).guid(), Prng::new(7).guid());
    }
}
