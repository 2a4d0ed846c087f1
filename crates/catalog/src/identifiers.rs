//! The catalog's identifiers, parsed once at the edge: ISRC (ISO 3901, no check digit), UPC-A / EAN-13
//! (GS1, with its check digit) and ISWC (ISO 15707, with its check digit). Each type holds only valid
//! codes; its `parse` says why a text is not one.

use std::fmt;

/// An International Standard Recording Code: country (2 letters), registrant (3 letters or digits),
/// year of assignment (2 digits) and designation (5 digits). Stored as 12 characters without hyphens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Isrc(String);

impl Isrc {
    /// Reads `CC-XXX-YY-NNNNN` or `CCXXXYYNNNNN` (an `ISRC ` prefix and lower case are accepted).
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let text = text.trim();
        let text = text.strip_prefix("ISRC").or_else(|| text.strip_prefix("isrc")).unwrap_or(text).trim();
        let code: String = text.chars().filter(|c| *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        if code.len() != 12 || !code.is_ascii() {
            return Err("must be 12 characters: CC-XXX-YY-NNNNN");
        }
        let b = code.as_bytes();
        if !b[..2].iter().all(u8::is_ascii_uppercase) {
            return Err("must start with a two-letter country code");
        }
        if !b[2..5].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
            return Err("the registrant code must be three letters or digits");
        }
        if !b[5..].iter().all(u8::is_ascii_digit) {
            return Err("the year and designation must be seven digits");
        }
        Ok(Self(code))
    }

    /// The code a registrant assigns for `year` (0–99) and designation `number` (1–99,999).
    pub fn assign(registrant: &Registrant, year: u32, number: u32) -> Self {
        assert!(year < 100 && (1..=99_999).contains(&number), "year {year}, number {number}");
        Self(format!("{}{year:02}{number:05}", registrant.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hyphenated form `CC-XXX-YY-NNNNN`.
    pub fn display(&self) -> String {
        let c = &self.0;
        format!("{}-{}-{}-{}", &c[..2], &c[2..5], &c[5..7], &c[7..])
    }
}

impl fmt::Display for Isrc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An ISRC registrant: country code and registrant code, as a national agency gives it (`DEA12`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Registrant(String);

impl Registrant {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code: String = text.trim().chars().filter(|c| *c != '-').map(|c| c.to_ascii_uppercase()).collect();
        let b = code.as_bytes();
        if b.len() != 5
            || !b[..2].iter().all(u8::is_ascii_uppercase)
            || !b[2..].iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err("must be a country code and a registrant code, such as DE-A12");
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The GS1 check digit of `digits` (the code without its check digit): weights 3, 1, 3, … from the
/// rightmost digit, then `(10 − sum mod 10) mod 10`.
pub fn gs1_check_digit(digits: &[u8]) -> u8 {
    let sum: u32 = digits.iter().rev().enumerate().map(|(i, d)| u32::from(*d) * if i % 2 == 0 { 3 } else { 1 }).sum();
    ((10 - sum % 10) % 10) as u8
}

/// A release's product code: a UPC-A (12 digits) or an EAN-13, with a correct GS1 check digit. It keeps
/// the form it was given in; two forms of one code (a UPC-A and the EAN-13 with a leading zero) are equal
/// in the database's unique index.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Upc(String);

impl Upc {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code: String = text.trim().chars().filter(|c| *c != ' ' && *c != '-').collect();
        if !(code.len() == 12 || code.len() == 13) || !code.bytes().all(|c| c.is_ascii_digit()) {
            return Err("must be a UPC-A (12 digits) or an EAN-13 (13 digits)");
        }
        let digits: Vec<u8> = code.bytes().map(|c| c - b'0').collect();
        let (data, check) = digits.split_at(digits.len() - 1);
        if gs1_check_digit(data) != check[0] {
            return Err("the check digit is wrong");
        }
        Ok(Self(code))
    }

    /// The code made of a GS1 company prefix and an item reference (zero-padded to fill 12 digits), with
    /// its check digit. A prefix starting with 0 gives a UPC-A, any other an EAN-13. `None` when the item
    /// reference does not fit beside the prefix.
    pub fn from_prefix(prefix: &str, item: u64) -> Option<Self> {
        let width = 12usize.checked_sub(prefix.len())?;
        if width == 0 || item >= 10u64.pow(width as u32) || !prefix.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let data = format!("{prefix}{item:0width$}");
        let digits: Vec<u8> = data.bytes().map(|c| c - b'0').collect();
        let code = format!("{data}{}", gs1_check_digit(&digits));
        Some(Self(code.strip_prefix('0').map_or(code.clone(), str::to_owned)))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 13-digit form (GTIN-13), as DDEX's ICPN carries an EAN.
    pub fn gtin13(&self) -> String {
        format!("{:0>13}", self.0)
    }
}

impl fmt::Display for Upc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The ISWC check digit of nine digits: `(10 − (1 + Σ i·dᵢ) mod 10) mod 10`, i = 1..9.
pub fn iswc_check_digit(digits: &[u8; 9]) -> u8 {
    let sum: u32 = 1 + digits.iter().enumerate().map(|(i, d)| (i as u32 + 1) * u32::from(*d)).sum::<u32>();
    ((10 - sum % 10) % 10) as u8
}

/// An International Standard Musical Work Code, stored as DDEX carries it: `T` and ten digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Iswc(String);

impl Iswc {
    /// Reads `T-DDD.DDD.DDD-C` or `TDDDDDDDDDC`.
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        let code: String = text.trim().chars().filter(|c| !matches!(c, '-' | '.' | ' ')).collect();
        let code = code.to_ascii_uppercase();
        let Some(digits) = code.strip_prefix('T') else { return Err("must start with T") };
        if digits.len() != 10 || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err("must be T and ten digits: T-DDD.DDD.DDD-C");
        }
        let d: Vec<u8> = digits.bytes().map(|c| c - b'0').collect();
        let body: [u8; 9] = d[..9].try_into().expect("nine digits");
        if iswc_check_digit(&body) != d[9] {
            return Err("the check digit is wrong");
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The display form `T-DDD.DDD.DDD-C`.
    pub fn display(&self) -> String {
        let d = &self.0[1..];
        format!("T-{}.{}.{}-{}", &d[..3], &d[3..6], &d[6..9], &d[9..])
    }
}

/// Whether `text` is an ISNI: 16 characters, the last a MOD 11-2 check character (ISO 7064).
pub fn isni_valid(text: &str) -> bool {
    let b = text.as_bytes();
    if b.len() != 16 || !b[..15].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let total = b[..15].iter().fold(0u32, |acc, d| (acc + u32::from(d - b'0')) * 2);
    let check = (12 - total % 11) % 11;
    let expected = if check == 10 { b'X' } else { b'0' + check as u8 };
    b[15] == expected
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn known_upcs_and_eans_pass_and_their_neighbours_fail() {
        for good in ["825646846917", "724358271058", "696998776920", "036000291452", "4006381333931"] {
            assert!(Upc::parse(good).is_ok(), "{good}");
        }
        assert_eq!(Upc::parse("731453000000"), Err("the check digit is wrong"));
        assert!(Upc::parse("03600029145").is_err(), "11 digits");
        assert!(Upc::parse("03600029145X").is_err());
        assert_eq!(Upc::parse("0360-0029-1452").unwrap().as_str(), "036000291452");
        assert_eq!(Upc::parse("036000291452").unwrap().gtin13(), "0036000291452");
    }

    #[test]
    fn codes_from_a_prefix_carry_the_check_digit_and_fit_or_are_refused() {
        // A U.P.C. company prefix is a GS1 prefix with a leading zero, and gives UPC-A codes.
        assert_eq!(Upc::from_prefix("0036000", 29145).unwrap().as_str(), "036000291452");
        assert_eq!(Upc::from_prefix("400638", 133393).unwrap().as_str(), "4006381333931");
        // An eleven-digit prefix leaves one digit: ten codes.
        assert!(Upc::from_prefix("12345678901", 9).is_some());
        assert!(Upc::from_prefix("12345678901", 10).is_none());
        assert!(Upc::from_prefix("123456789012", 0).is_none());
    }

    #[test]
    fn isrcs_read_in_every_usual_form() {
        let isrc = Isrc::parse("isrc gb-aht-09-00445").unwrap();
        assert_eq!(isrc.as_str(), "GBAHT0900445");
        assert_eq!(isrc.display(), "GB-AHT-09-00445");
        assert!(Isrc::parse("USSM16900682").is_ok());
        assert!(Isrc::parse("1SSM16900682").is_err(), "country must be letters");
        assert!(Isrc::parse("USS-M1-69-0068").is_err());
        assert!(Isrc::parse("USSM1690068A").is_err(), "designation is digits");
        assert!(Isrc::parse("USSM169006821").is_err(), "13 characters");
        let r = Registrant::parse("de-a12").unwrap();
        assert_eq!(Isrc::assign(&r, 26, 7).as_str(), "DEA122600007");
        assert!(Registrant::parse("DEA1").is_err());
    }

    #[test]
    fn known_iswcs_pass_and_the_copied_placeholder_fails() {
        for good in ["T-034.524.680-1", "T-071.464.731-0", "T-041.630.263-0", "T0030749586"] {
            assert!(Iswc::parse(good).is_ok(), "{good}");
        }
        assert_eq!(Iswc::parse("T-345246800-1"), Err("the check digit is wrong"));
        assert_eq!(Iswc::parse("T-345246800-3").unwrap().display(), "T-345.246.800-3");
        assert!(Iswc::parse("0345246800").is_err());
    }

    #[test]
    fn isnis_check_their_last_character() {
        assert!(isni_valid("0000000121032683"));
        assert!(isni_valid("000000012146438X"));
        assert!(!isni_valid("0000000121032684"));
        assert!(!isni_valid("00000001210326"));
    }

    proptest! {
        /// Every code made with its computed check digit parses; every other last digit is refused.
        #[test]
        fn gs1_check_digit_accepts_exactly_one_digit(data in proptest::collection::vec(0u8..10, 11..=12)) {
            let check = gs1_check_digit(&data);
            let text: String = data.iter().map(|d| char::from(b'0' + d)).collect();
            for last in 0u8..10 {
                let code = format!("{text}{last}");
                prop_assert_eq!(Upc::parse(&code).is_ok(), last == check, "{}", code);
            }
        }

        /// Changing any one digit of a valid code (to another digit) is always caught.
        #[test]
        fn gs1_catches_every_single_digit_error(data in proptest::collection::vec(0u8..10, 12), at in 0usize..13, by in 1u8..10) {
            let mut digits = data.clone();
            digits.push(gs1_check_digit(&data));
            digits[at] = (digits[at] + by) % 10;
            let code: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            prop_assert!(Upc::parse(&code).is_err(), "{}", code);
        }

        #[test]
        fn codes_from_a_prefix_always_parse(prefix in "[1-9][0-9]{5,10}", item in 0u64..10) {
            let upc = Upc::from_prefix(&prefix, item).unwrap();
            prop_assert!(upc.as_str().starts_with(&prefix));
            prop_assert_eq!(Upc::parse(upc.as_str()), Ok(upc));
        }

        #[test]
        fn iswc_check_digit_accepts_exactly_one_digit(body in proptest::array::uniform9(0u8..10)) {
            let check = iswc_check_digit(&body);
            let text: String = body.iter().map(|d| char::from(b'0' + d)).collect();
            for last in 0u8..10 {
                let code = format!("T{text}{last}");
                prop_assert_eq!(Iswc::parse(&code).is_ok(), last == check, "{}", code);
            }
        }

        /// ISO 15707 weighs digit i by i, so a change of a digit is caught exactly when weight × change is
        /// not a multiple of 10 (a change of 5 in an even place, or any change in the tenth place's
        /// multiples, slips through: a property of the standard, not of this code).
        #[test]
        fn iswc_catches_a_digit_change_unless_its_weight_hides_it(body in proptest::array::uniform9(0u8..10), at in 0usize..10, by in 1u8..10) {
            let mut digits = body.to_vec();
            digits.push(iswc_check_digit(&body));
            digits[at] = (digits[at] + by) % 10;
            let code: String = std::iter::once('T').chain(digits.iter().map(|d| char::from(b'0' + d))).collect();
            let hidden = at < 9 && ((at as u32 + 1) * u32::from(by)).is_multiple_of(10);
            prop_assert_eq!(Iswc::parse(&code).is_ok(), hidden, "{}", code);
        }

        /// Assigned ISRCs always parse back to themselves, whatever the registrant, year and number.
        #[test]
        fn assigned_isrcs_round_trip(registrant in "[A-Z]{2}[A-Z0-9]{3}", year in 0u32..100, number in 1u32..100_000) {
            let isrc = Isrc::assign(&Registrant::parse(&registrant).unwrap(), year, number);
            prop_assert_eq!(Isrc::parse(&isrc.display()), Ok(isrc.clone()));
            prop_assert_eq!(Isrc::parse(isrc.as_str()), Ok(isrc));
        }
    }
}
