//! Reading request fields shared by the areas: texts with bounds, languages, credits. A field left out
//! keeps its value; an empty text clears an optional one.

use platform::error::FieldError;
use uuid::Uuid;

use crate::model::{CreditRole, territory_code};

/// A required text: trimmed, 1 to `max` characters.
pub fn required(field: &str, value: Option<&str>, current: &mut String, max: usize, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        let v = v.trim();
        if v.is_empty() || v.chars().count() > max {
            errors.push(FieldError::new(field, "invalid_length", format!("must be 1 to {max} characters")));
        }
        *current = v.to_owned();
    }
}

/// An optional text: trimmed, at most `max` characters; `""` clears it.
pub fn optional(
    field: &str,
    value: Option<&str>,
    current: &mut Option<String>,
    max: usize,
    errors: &mut Vec<FieldError>,
) {
    if let Some(v) = value {
        let v = v.trim();
        if v.chars().count() > max {
            errors.push(FieldError::new(field, "too_long", format!("must be at most {max} characters")));
        }
        *current = Some(v.to_owned()).filter(|v| !v.is_empty());
    }
}

/// An ISO 639 language code (two or three lower-case letters); `""` clears it.
pub fn language(field: &str, value: Option<&str>, current: &mut Option<String>, errors: &mut Vec<FieldError>) {
    if let Some(v) = value {
        let v = v.trim().to_ascii_lowercase();
        let code = (2..=3).contains(&v.len()) && v.bytes().all(|c| c.is_ascii_lowercase());
        if !v.is_empty() && !code {
            errors.push(FieldError::new(field, "invalid_format", "must be an ISO 639 code such as en or deu"));
        }
        *current = Some(v).filter(|v| !v.is_empty());
    }
}

/// One credit of a request: who, and as what.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditInput {
    /// An artist or contributor of the label (see `/v1/labels/{id}/parties`).
    pub party_id: Uuid,
    /// `main_artist`, `featured_artist`, `remixer`, `producer`, `composer`, `lyricist`, `arranger`, `mixer`,
    /// `mastering_engineer`, `recording_engineer`, `performer`, `conductor` or `orchestra`.
    pub role: String,
}

/// Reads a list of credits: known roles, no party twice in one role, at most 100.
pub fn credits(field: &str, list: &[CreditInput], errors: &mut Vec<FieldError>) -> (Vec<Uuid>, Vec<String>) {
    if list.len() > 100 {
        errors.push(FieldError::new(field, "too_many", "at most 100 credits"));
    }
    let (mut parties, mut roles) = (Vec::new(), Vec::new());
    for (i, c) in list.iter().enumerate() {
        match CreditRole::parse(&c.role) {
            Some(role) if parties.iter().zip(&roles).any(|(p, r)| *p == c.party_id && r == role.as_str()) => {
                errors.push(FieldError::new(format!("{field}[{i}]"), "taken", "credits the party twice in one role"));
            }
            Some(role) => {
                parties.push(c.party_id);
                roles.push(role.as_str().to_owned());
            }
            None => errors.push(FieldError::new(format!("{field}[{i}].role"), "invalid_value", "is not a credit role")),
        }
    }
    (parties, roles)
}

/// A list of ISO 3166-1 alpha-2 codes: upper-cased, each once, sorted.
pub fn territories(field: &str, list: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let t = t.trim().to_ascii_uppercase();
        if !territory_code(&t) {
            errors.push(FieldError::new(
                format!("{field}[{i}]"),
                "invalid_format",
                "must be an ISO 3166-1 alpha-2 code such as DE",
            ));
        } else if !codes.contains(&t) {
            codes.push(t);
        }
    }
    codes.sort();
    codes
}
