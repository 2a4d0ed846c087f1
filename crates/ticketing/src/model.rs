//! Ticketing's ids and parsed values.

platform::id_type!(
    /// An event.
    EventId
);
platform::id_type!(
    /// A ticket tier of an event.
    TierId
);
platform::id_type!(
    /// An order: tickets held for a buyer until paid.
    OrderId
);
platform::id_type!(
    /// A ticket. Its code changes on transfer and resale; its id does not.
    TicketId
);
platform::id_type!(
    /// An event category.
    CategoryId
);

/// A tag: lowercase, 1–40 characters of letters, digits, spaces and `&+.-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag(String);

impl Tag {
    pub fn parse(raw: &str) -> Option<Self> {
        let tag = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        let ok = !tag.is_empty()
            && tag.chars().count() <= 40
            && tag.chars().all(|c| c.is_alphanumeric() || " &+.-".contains(c))
            && tag.chars().next().is_some_and(char::is_alphanumeric);
        ok.then_some(Self(tag))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_normalized_or_refused() {
        assert_eq!(Tag::parse("  Drum &  Bass ").unwrap().as_str(), "drum & bass");
        assert_eq!(Tag::parse("r&b").unwrap().as_str(), "r&b");
        assert!(Tag::parse("").is_none());
        assert!(Tag::parse("-techno").is_none());
        assert!(Tag::parse(&"a".repeat(41)).is_none());
        assert!(Tag::parse("semi;colon").is_none());
    }
}

/// A Stellar account address (`G...`): the StrKey encoding of an Ed25519 public key, checked by its
/// version byte and CRC16-XModem checksum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StellarAddress(String);

impl StellarAddress {
    const VERSION_ACCOUNT_ID: u8 = 6 << 3;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let text = raw.trim();
        if text.len() != 56 || !text.starts_with('G') {
            return Err("must be a Stellar account address: 56 characters starting with G");
        }
        let bytes = base32_decode(text).ok_or("has characters that are not in the Stellar alphabet (A-Z, 2-7)")?;
        if bytes.len() != 35 || bytes[0] != Self::VERSION_ACCOUNT_ID {
            return Err("is not a Stellar account address");
        }
        let checksum = crc16_xmodem(&bytes[..33]);
        if bytes[33..] != checksum.to_le_bytes() {
            return Err("has a wrong checksum (a mistyped character?)");
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'2'..=b'7' => c - b'2' + 26,
            _ => return None,
        };
        buffer = (buffer << 5) | u32::from(value);
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    Some(out)
}

fn crc16_xmodem(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for byte in data {
        crc ^= u16::from(*byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 { (crc << 1) ^ 0x1021 } else { crc << 1 };
        }
    }
    crc
}

#[cfg(test)]
mod stellar_tests {
    use super::*;

    #[test]
    fn addresses_made_by_the_stellar_sdk_are_accepted() {
        // From stellar-sdk (Python) 13: Keypair.from_raw_ed25519_seed(bytes(32)) and (bytes(range(32))).
        for address in [
            "GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYH",
            "GAB2CB576PHBBPQ5ODORRZ2LYCMWPZGWGCN2KDK7DXOIMZASKUY3QZ6Q",
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ",
        ] {
            assert_eq!(StellarAddress::parse(address).map(|a| a.0), Ok(address.to_owned()));
        }
    }

    #[test]
    fn a_changed_character_wrong_kind_or_shape_is_refused() {
        // The SDK refuses this one too: the last character changed.
        assert!(StellarAddress::parse("GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGY").is_err());
        assert!(StellarAddress::parse("GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYI").is_err());
        // A secret seed (S...) is never an address.
        assert!(StellarAddress::parse("SA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKYH").is_err());
        assert!(StellarAddress::parse("GA5WUJ54").is_err());
        assert!(StellarAddress::parse("ga5wuj54z23killcuounaktpbvzwkmqvo4o6eq5ghlaerimllhncskyh").is_err());
        assert!(StellarAddress::parse("GA5WUJ54Z23KILLCUOUNAKTPBVZWKMQVO4O6EQ5GHLAERIMLLHNCSKY1").is_err());
    }
}
