//! Complexity detected from a brief: one point for each deliverable beyond the first and each format
//! beyond the first, two for motion and two for custom illustration; 0–1 points is simple, 2–3
//! intermediate, 4–5 advanced, 6 or more expert. Staff may set it instead.

use crate::model::Complexity;

/// What a brief says that makes work harder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Signals {
    pub deliverables: usize,
    pub formats: usize,
    pub motion: bool,
    pub custom_illustration: bool,
}

impl Signals {
    pub fn of(brief: &crate::briefs::steps::BriefContent) -> Self {
        Self {
            deliverables: brief.deliverables.len(),
            formats: brief.formats.len(),
            motion: brief.motion,
            custom_illustration: brief.custom_illustration,
        }
    }

    pub fn points(self) -> usize {
        self.deliverables.saturating_sub(1)
            + self.formats.saturating_sub(1)
            + if self.motion { 2 } else { 0 }
            + if self.custom_illustration { 2 } else { 0 }
    }
}

pub fn detect(signals: &Signals) -> Complexity {
    match signals.points() {
        0..=1 => Complexity::Simple,
        2..=3 => Complexity::Intermediate,
        4..=5 => Complexity::Advanced,
        _ => Complexity::Expert,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_band_at_its_edges() {
        let s = |deliverables, formats, motion, custom_illustration| {
            detect(&Signals { deliverables, formats, motion, custom_illustration })
        };
        assert_eq!(s(0, 0, false, false), Complexity::Simple);
        assert_eq!(s(1, 1, false, false), Complexity::Simple);
        assert_eq!(s(2, 1, false, false), Complexity::Simple);
        assert_eq!(s(2, 2, false, false), Complexity::Intermediate);
        assert_eq!(s(1, 1, true, false), Complexity::Intermediate);
        assert_eq!(s(3, 2, false, false), Complexity::Intermediate);
        assert_eq!(s(3, 3, false, false), Complexity::Advanced);
        assert_eq!(s(1, 1, true, true), Complexity::Advanced);
        assert_eq!(s(2, 1, true, true), Complexity::Advanced);
        assert_eq!(s(2, 2, true, true), Complexity::Expert);
        assert_eq!(s(7, 1, false, false), Complexity::Expert);
    }
}
