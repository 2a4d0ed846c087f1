//! Identity's settings, with the defaults from the product rules.

use std::time::Duration as StdDuration;

use chrono::Duration;
use platform::ratelimit::Limit;

/// Notification channels a preference may name.
pub const CHANNELS: &[&str] = &["in_app", "email", "webhook", "sms", "whatsapp"];
/// Channels an operator may plug in later; until then they cannot be switched on.
pub const UNAVAILABLE_CHANNELS: &[&str] = &["sms", "whatsapp"];

#[derive(Debug, Clone)]
pub struct IdentitySettings {
    pub access_ttl: Duration,
    pub refresh_ttl: Duration,
    pub max_sessions: u32,
    /// Failed logins within `lockout_window` that lock an account for `lockout_duration`.
    pub lockout_threshold: u32,
    pub lockout_window: Duration,
    pub lockout_duration: Duration,
    pub verification_ttl: Duration,
    pub reset_ttl: Duration,
    /// Per account and IP.
    pub login_limit: Limit,
    /// Per IP.
    pub register_limit: Limit,
    /// Per session.
    pub refresh_limit: Limit,
    /// Per IP.
    pub forgot_limit: Limit,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            access_ttl: Duration::minutes(15),
            refresh_ttl: Duration::days(7),
            max_sessions: 5,
            lockout_threshold: 5,
            lockout_window: Duration::minutes(5),
            lockout_duration: Duration::minutes(15),
            verification_ttl: Duration::hours(24),
            reset_ttl: Duration::hours(1),
            login_limit: Limit::new(5, StdDuration::from_secs(5 * 60)),
            register_limit: Limit::new(3, StdDuration::from_secs(60 * 60)),
            refresh_limit: Limit::new(10, StdDuration::from_secs(10 * 60)),
            forgot_limit: Limit::new(5, StdDuration::from_secs(60 * 60)),
        }
    }
}
