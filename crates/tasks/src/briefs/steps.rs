//! A brief's steps and when it is ready. The steps, in the builder's order: summary, platform, content
//! type, intent, audience, formats (the deliverables, dimensions and formats, motion, custom
//! illustration), visual direction (words and chosen style cards), outline, attachments. Summary,
//! platform, content type, intent and formats are required. A brief is ready when every required step
//! has a value and every step with a value is confirmed by the client; changing a step's value takes
//! its confirmation back unless the same change confirms it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

platform::text_enum! {
    /// A step of the brief builder.
    pub enum Step {
        Summary = "summary",
        Platform = "platform",
        ContentType = "content_type",
        Intent = "intent",
        Audience = "audience",
        Formats = "formats",
        VisualDirection = "visual_direction",
        Outline = "outline",
        Attachments = "attachments",
    }
}

impl Step {
    pub fn required(self) -> bool {
        matches!(self, Self::Summary | Self::Platform | Self::ContentType | Self::Intent | Self::Formats)
    }
}

/// What a brief says, field by field: sent whole with a new task, or built in steps (a brief). The
/// summary is required for a task. `confirmed` names the steps the client confirmed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BriefContent {
    /// What the work is, in a few sentences.
    pub summary: Option<String>,
    /// Where it will be used (`instagram`, `linkedin`, `web`, ...).
    pub platform: Option<String>,
    pub content_type: Option<String>,
    pub intent: Option<String>,
    /// The audience in words (or a saved audience: `audience_id`).
    pub audience: Option<String>,
    #[serde(default)]
    pub deliverables: Vec<String>,
    /// Dimensions and file formats (`1080x1080 PNG`).
    #[serde(default)]
    pub formats: Vec<String>,
    #[serde(default)]
    pub motion: bool,
    #[serde(default)]
    pub custom_illustration: bool,
    pub visual_direction: Option<String>,
    pub outline: Option<String>,
    /// The steps the client confirmed (a brief built in steps keeps them beside its content).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confirmed: Vec<String>,
}

/// What, beside the content, fills a step.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras {
    pub audience_id: bool,
    pub style_cards: usize,
    pub attachments: usize,
}

/// Whether a step has a value.
pub fn filled(step: Step, c: &BriefContent, extras: Extras) -> bool {
    let some = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    match step {
        Step::Summary => some(&c.summary),
        Step::Platform => some(&c.platform),
        Step::ContentType => some(&c.content_type),
        Step::Intent => some(&c.intent),
        Step::Audience => some(&c.audience) || extras.audience_id,
        Step::Formats => !c.deliverables.is_empty() && !c.formats.is_empty(),
        Step::VisualDirection => some(&c.visual_direction) || extras.style_cards > 0,
        Step::Outline => some(&c.outline),
        Step::Attachments => extras.attachments > 0,
    }
}

/// One step's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    pub step: Step,
    pub required: bool,
    pub filled: bool,
    pub confirmed: bool,
}

impl Standing {
    /// What stops the brief being ready at this step, if anything: `required` or `unconfirmed`.
    pub fn problem(self) -> Option<&'static str> {
        if self.required && !self.filled {
            Some("required")
        } else if self.filled && !self.confirmed {
            Some("unconfirmed")
        } else {
            None
        }
    }
}

/// Every step's standing, in the builder's order.
pub fn standings(c: &BriefContent, extras: Extras, confirmed: &[Step]) -> Vec<Standing> {
    Step::ALL
        .iter()
        .map(|&step| Standing {
            step,
            required: step.required(),
            filled: filled(step, c, extras),
            confirmed: confirmed.contains(&step),
        })
        .collect()
}

/// The confirmations after an edit: the steps whose value changed lose theirs, then `confirm` adds and
/// `unconfirm` removes. Kept in the builder's order.
pub fn confirmations(before: &[Step], changed: &[Step], confirm: &[Step], unconfirm: &[Step]) -> Vec<Step> {
    Step::ALL
        .iter()
        .copied()
        .filter(|s| (before.contains(s) && !changed.contains(s) || confirm.contains(s)) && !unconfirm.contains(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ready(c: &BriefContent, extras: Extras, confirmed: &[Step]) -> Vec<(Step, &'static str)> {
        standings(c, extras, confirmed).into_iter().filter_map(|s| s.problem().map(|p| (s.step, p))).collect()
    }

    fn complete() -> BriefContent {
        BriefContent {
            summary: Some("Spring sale banners".into()),
            platform: Some("instagram".into()),
            content_type: Some("static_ad".into()),
            intent: Some("sell".into()),
            deliverables: vec!["Feed post".into()],
            formats: vec!["1080x1080 PNG".into()],
            ..BriefContent::default()
        }
    }

    const REQUIRED: [Step; 5] = [Step::Summary, Step::Platform, Step::ContentType, Step::Intent, Step::Formats];

    #[test]
    fn an_empty_brief_lacks_exactly_the_required_steps() {
        let problems = ready(&BriefContent::default(), Extras::default(), &[]);
        assert_eq!(problems, REQUIRED.map(|s| (s, "required")).to_vec());
    }

    #[test]
    fn a_brief_is_ready_when_required_steps_are_filled_and_every_filled_step_confirmed() {
        let c = complete();
        assert_eq!(ready(&c, Extras::default(), &REQUIRED), []);
        // One required step unconfirmed.
        assert_eq!(ready(&c, Extras::default(), &REQUIRED[..4]), [(Step::Formats, "unconfirmed")]);
        // An optional step with a value must be confirmed too; without a value it needs nothing.
        let extras = Extras { style_cards: 2, ..Extras::default() };
        assert_eq!(ready(&c, extras, &REQUIRED), [(Step::VisualDirection, "unconfirmed")]);
        let extras = Extras { attachments: 1, audience_id: true, style_cards: 0 };
        assert_eq!(ready(&c, extras, &REQUIRED), [(Step::Audience, "unconfirmed"), (Step::Attachments, "unconfirmed")]);
    }

    #[test]
    fn formats_need_a_deliverable_and_a_format_and_blank_text_is_no_value() {
        let mut c = complete();
        c.formats.clear();
        assert!(!filled(Step::Formats, &c, Extras::default()));
        c.formats.push("PNG".into());
        c.deliverables.clear();
        assert!(!filled(Step::Formats, &c, Extras::default()));
        c.summary = Some("   ".into());
        assert!(!filled(Step::Summary, &c, Extras::default()));
    }

    #[test]
    fn a_changed_step_loses_its_confirmation_unless_confirmed_again() {
        let before = [Step::Summary, Step::Platform];
        assert_eq!(confirmations(&before, &[Step::Summary], &[], &[]), [Step::Platform]);
        assert_eq!(confirmations(&before, &[Step::Summary], &[Step::Summary], &[]), before);
        assert_eq!(confirmations(&before, &[], &[Step::Intent], &[Step::Platform]), [Step::Summary, Step::Intent]);
        // Order is the builder's, whatever order they came in.
        assert_eq!(confirmations(&[], &[], &[Step::Outline, Step::Summary], &[]), [Step::Summary, Step::Outline]);
    }
}
