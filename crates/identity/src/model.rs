//! Identity's value types, parsed once at the edge: ids, email addresses, usernames, passwords, statuses.

use platform::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

platform::id_type!(
    /// A user account.
    UserId
);
platform::id_type!(
    /// One login on one device: the family of its rotated refresh tokens.
    SessionId
);
platform::id_type!(
    /// An API key.
    ApiKeyId
);
platform::id_type!(
    /// An organization.
    OrgId
);
platform::id_type!(
    /// A team inside an organization.
    TeamId
);
platform::id_type!(
    /// An invitation to join an organization.
    InvitationId
);
platform::id_type!(
    /// A permission template.
    TemplateId
);

/// An organization's unique address: 3–63 lower-case letters, digits and inner hyphens.
pub fn parse_slug(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let ok = (3..=63).contains(&value.len())
        && value.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !value.starts_with('-')
        && !value.ends_with('-');
    if ok {
        Ok(value.to_owned())
    } else {
        Err(FieldError::new("slug", "invalid_format", "must be 3 to 63 lower-case letters, digits and inner hyphens"))
    }
}

/// What kind of organization it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum OrgKind {
    Label,
    SubLabel,
    Promoter,
    Venue,
    Agency,
    Company,
    School,
    Band,
    Other,
}

/// An email address, checked for form. Compared case-insensitively; kept as entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let invalid = |why: &str| FieldError::new(field, "invalid_format", format!("is not an email address ({why})"));
        if value.is_empty() {
            return Err(FieldError::new(field, "required", "must not be empty"));
        }
        if value.len() > 254 {
            return Err(FieldError::new(field, "too_long", "must be at most 254 characters"));
        }
        let Some((local, domain)) = value.rsplit_once('@') else { return Err(invalid("no @")) };
        if local.is_empty() || local.len() > 64 {
            return Err(invalid("the part before @ must be 1 to 64 characters"));
        }
        if local.contains(['@', ' ', '"', '(', ')', ',', ':', ';', '<', '>', '[', ']', '\\'])
            || local.starts_with('.')
            || local.ends_with('.')
            || local.contains("..")
            || local.chars().any(char::is_control)
        {
            return Err(invalid("the part before @ has characters an address cannot have"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let label_ok = |l: &&str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(label_ok) {
            return Err(invalid("the domain is not valid"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// 3–50 letters, digits, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let len = value.chars().count();
        if len < 3 {
            return Err(FieldError::new("username", "too_short", "must be at least 3 characters"));
        }
        if len > 50 {
            return Err(FieldError::new("username", "too_long", "must be at most 50 characters"));
        }
        if !value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(FieldError::new("username", "invalid_format", "may contain only letters, digits, _ and -"));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: 1–100 characters after trimming, no control characters.
pub fn parse_display_name(raw: &str) -> Result<String, FieldError> {
    let value = raw.trim();
    let len = value.chars().count();
    if len == 0 {
        return Err(FieldError::new("display_name", "required", "must not be empty"));
    }
    if len > 100 {
        return Err(FieldError::new("display_name", "too_long", "must be at most 100 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(FieldError::new("display_name", "invalid_format", "must not contain control characters"));
    }
    Ok(value.to_owned())
}

pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;

/// A new password that meets the policy: 8–256 characters, not a common password, not the account's
/// email or username.
#[derive(Clone)]
pub struct NewPassword(String);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword(..)")
    }
}

impl NewPassword {
    pub fn parse(field: &str, raw: &str, email: &str, username: &str) -> Result<Self, FieldError> {
        let len = raw.chars().count();
        if len < PASSWORD_MIN {
            return Err(FieldError::new(field, "too_short", format!("must be at least {PASSWORD_MIN} characters")));
        }
        if len > PASSWORD_MAX {
            return Err(FieldError::new(field, "too_long", format!("must be at most {PASSWORD_MAX} characters")));
        }
        let lower = raw.to_lowercase();
        if lower == email.trim().to_lowercase() || lower == username.trim().to_lowercase() {
            return Err(FieldError::new(field, "same_as_identity", "must not be your email address or username"));
        }
        if crate::common_passwords::is_common(&lower) {
            return Err(FieldError::new(field, "too_common", "is one of the most commonly used passwords"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, sqlx::Type)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum UserStatus {
    PendingVerification,
    Active,
    Suspended,
    Deleted,
}

/// What an API key may do: `resource.action` permissions, `resource.*`, or `*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope(String);

impl Scope {
    pub fn parse(index: usize, raw: &str) -> Result<Self, FieldError> {
        let field = format!("scopes[{index}]");
        let value = raw.trim();
        let known = value == "*"
            || crate::authz::PERMISSIONS.iter().any(|(name, _)| *name == value)
            || value.strip_suffix(".*").is_some_and(|resource| {
                crate::authz::PERMISSIONS.iter().any(|(name, _)| name.starts_with(&format!("{resource}.")))
            });
        if !known {
            return Err(FieldError::new(field, "unknown_scope", format!("`{value}` is not a known permission")));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this scope allows `permission`.
    pub fn allows(scope: &str, permission: &str) -> bool {
        scope == "*"
            || scope == permission
            || scope
                .strip_suffix(".*")
                .is_some_and(|resource| permission.split_once('.').is_some_and(|(r, _)| r == resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@example.com", "ÜSER@bücher.de", " padded@example.org "] {
            assert!(Email::parse("email", ok).is_ok(), "{ok}");
        }
        for bad in
            ["", "plain", "@example.com", "a@", "a@b", "a@-b.com", "a..b@example.com", "a b@example.com", "a@b..com"]
        {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(Email::parse("email", &long_local).unwrap_err().code, "invalid_format");
        let at_limit = format!("{}@{}.com", "a".repeat(64), "b".repeat(63));
        assert!(Email::parse("email", &at_limit).is_ok());
    }

    #[test]
    fn username_bounds() {
        assert_eq!(Username::parse("ab").unwrap_err().code, "too_short");
        assert!(Username::parse("abc").is_ok());
        assert!(Username::parse(&"a".repeat(50)).is_ok());
        assert_eq!(Username::parse(&"a".repeat(51)).unwrap_err().code, "too_long");
        assert_eq!(Username::parse("no spaces").unwrap_err().code, "invalid_format");
        assert_eq!(Username::parse("dj.shadow").unwrap_err().code, "invalid_format");
        assert!(Username::parse("DJ_Sha-dow9").is_ok());
    }

    #[test]
    fn password_policy_bounds() {
        let p = |pw: &str| NewPassword::parse("password", pw, "ana@example.com", "ana_b");
        assert_eq!(p("7chars!").unwrap_err().code, "too_short");
        assert!(p("8 chars!").is_ok());
        assert!(p(&"x".repeat(256)).is_ok());
        assert_eq!(p(&"x".repeat(257)).unwrap_err().code, "too_long");
        assert_eq!(p("password123").unwrap_err().code, "too_common");
        assert_eq!(p("PASSWORD123").unwrap_err().code, "too_common");
        assert_eq!(p("ANA@example.com").unwrap_err().code, "same_as_identity");
        assert_eq!(p("Ana_B").unwrap_err().code, "too_short");
        let q = NewPassword::parse("password", "ana_b_long", "ana@example.com", "ana_b_long");
        assert_eq!(q.unwrap_err().code, "same_as_identity");
        // Counted in characters, not bytes.
        assert!(p("ünïcødé").is_err());
        assert!(p("ünïcødé!").is_ok());
    }

    #[test]
    fn scopes() {
        assert!(Scope::allows("*", "events.publish"));
        assert!(Scope::allows("profile.*", "profile.read"));
        assert!(!Scope::allows("profile.*", "profiles.read"));
        assert!(Scope::allows("profile.read", "profile.read"));
        assert!(!Scope::allows("profile.read", "profile.update"));
        assert!(Scope::parse(0, "profile.read").is_ok());
        assert!(Scope::parse(0, "profile.*").is_ok());
        assert_eq!(Scope::parse(2, "nope.read").unwrap_err().field, "scopes[2]");
    }
}

platform::text_enum! {
    /// How much a security event matters.
    pub enum Severity { Info = "info", Warning = "warning", Critical = "critical" }
}

platform::text_enum! {
    /// Where an invitation to an organization stands.
    pub enum InvitationStatus { Pending = "pending", Accepted = "accepted", Declined = "declined", Revoked = "revoked" }
}
