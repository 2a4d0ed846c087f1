//! A ticket's targets as a pure rule: when each falls due, which one runs next, and whether a ticket
//! missed one at a given moment.

use chrono::{DateTime, Duration, Utc};

/// The two targets a ticket is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// An agent's first answer.
    FirstResponse,
    /// The ticket resolved.
    Resolution,
}

impl Goal {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::Resolution => "resolution",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "first_response" => Some(Self::FirstResponse),
            "resolution" => Some(Self::Resolution),
            _ => None,
        }
    }
}

/// Where a ticket stands against its targets.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub settled: bool,
    pub first_response_due: DateTime<Utc>,
    pub first_responded: bool,
    pub first_response_breached: bool,
    pub resolution_due: DateTime<Utc>,
    pub resolution_breached: bool,
}

impl Clock {
    /// Whether `goal` is still running: not met, not yet missed, the ticket not settled.
    pub fn running(&self, goal: Goal) -> bool {
        !self.settled
            && match goal {
                Goal::FirstResponse => !self.first_responded && !self.first_response_breached,
                Goal::Resolution => !self.resolution_breached,
            }
    }

    /// When `goal` falls due.
    pub fn due(&self, goal: Goal) -> DateTime<Utc> {
        match goal {
            Goal::FirstResponse => self.first_response_due,
            Goal::Resolution => self.resolution_due,
        }
    }

    /// Whether `goal` is missed at `now`: still running and due (a target due at 10:00 is missed at
    /// 10:00 exactly, not a moment before).
    pub fn missed(&self, goal: Goal, now: DateTime<Utc>) -> bool {
        self.running(goal) && now >= self.due(goal)
    }

    /// The target that falls due first among those still running.
    pub fn next(&self) -> Option<(Goal, DateTime<Utc>)> {
        [Goal::FirstResponse, Goal::Resolution]
            .into_iter()
            .filter(|g| self.running(*g))
            .map(|g| (g, self.due(g)))
            .min_by_key(|(_, due)| *due)
    }
}

/// A due time `minutes` after `from`.
pub fn after(from: DateTime<Utc>, minutes: i32) -> DateTime<Utc> {
    from + Duration::minutes(i64::from(minutes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clock() -> Clock {
        let t0 = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        Clock {
            settled: false,
            first_response_due: after(t0, 60),
            first_responded: false,
            first_response_breached: false,
            resolution_due: after(t0, 240),
            resolution_breached: false,
        }
    }

    #[test]
    fn a_target_is_missed_at_its_due_time_exactly() {
        let c = clock();
        let due = c.first_response_due;
        assert!(!c.missed(Goal::FirstResponse, due - Duration::seconds(1)));
        assert!(c.missed(Goal::FirstResponse, due));
        assert!(!c.missed(Goal::Resolution, due));
        assert!(c.missed(Goal::Resolution, c.resolution_due));
    }

    #[test]
    fn met_missed_or_settled_targets_stop_running() {
        let mut c = clock();
        assert_eq!(c.next().map(|n| n.0), Some(Goal::FirstResponse));
        c.first_responded = true;
        assert!(!c.missed(Goal::FirstResponse, c.resolution_due));
        assert_eq!(c.next(), Some((Goal::Resolution, c.resolution_due)));
        c.resolution_breached = true;
        assert_eq!(c.next(), None);
        let mut c = clock();
        c.settled = true;
        assert!(!c.missed(Goal::Resolution, c.resolution_due));
        assert_eq!(c.next(), None);
    }

    #[test]
    fn goals_read_back_their_names() {
        for goal in [Goal::FirstResponse, Goal::Resolution] {
            assert_eq!(Goal::parse(goal.as_str()), Some(goal));
        }
        assert_eq!(Goal::parse("lunch"), None);
    }
}
