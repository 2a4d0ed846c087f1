//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::CardRow;
use crate::model::StyleCardId;

/// The kinds of work a card shows.
pub const DELIVERABLE_TYPES: &[&str] = &[
    "static_ad",
    "social_post",
    "video",
    "motion_graphic",
    "ui_screen",
    "presentation",
    "print",
    "illustration",
    "logo",
];

/// The style axes a card sits on.
pub const STYLE_AXES: &[&str] =
    &["minimal", "bold", "playful", "elegant", "corporate", "retro", "organic", "futuristic", "editorial", "handmade"];

/// The colour temperatures.
pub const TEMPERATURES: &[&str] = &["warm", "neutral", "cool"];

/// A new style card (staff). It stays a draft until its image is in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewStyleCard {
    pub title: String,
    /// `static_ad`, `social_post`, `video`, `motion_graphic`, `ui_screen`, `presentation`, `print`,
    /// `illustration` or `logo`.
    pub deliverable_type: String,
    /// `minimal`, `bold`, `playful`, `elegant`, `corporate`, `retro`, `organic`, `futuristic`,
    /// `editorial` or `handmade`.
    pub style_axis: String,
    /// `warm`, `neutral` or `cool`.
    pub colour_temperature: String,
    /// 1 (calm) to 5 (intense).
    pub energy: i16,
    /// 1 (airy) to 5 (packed).
    pub density: i16,
    /// 1 (casual) to 5 (formal).
    pub formality: i16,
    /// Colours as `#RRGGBB`.
    #[serde(default)]
    pub colour_samples: Vec<String>,
    #[serde(default)]
    pub industries: Vec<String>,
    #[serde(default)]
    pub mood_keywords: Vec<String>,
}

/// A card's image, as decoded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StyleImage {
    pub media_type: String,
    pub width: i32,
    pub height: i32,
    pub size: i64,
    /// The image's perceptual hash (64 bits, hex): pictures a few bits apart are the same picture.
    pub phash: String,
    /// Where the image is downloaded.
    pub url: String,
}

/// A style reference card.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StyleCard {
    pub id: StyleCardId,
    pub title: String,
    pub deliverable_type: String,
    pub style_axis: String,
    pub colour_temperature: String,
    pub energy: i16,
    pub density: i16,
    pub formality: i16,
    pub colour_samples: Vec<String>,
    pub industries: Vec<String>,
    pub mood_keywords: Vec<String>,
    /// `draft` (no image yet), `active` or `retired`.
    pub status: String,
    pub image: Option<StyleImage>,
    pub created_at: DateTime<Utc>,
}

impl From<CardRow> for StyleCard {
    fn from(r: CardRow) -> Self {
        let image = match (r.sha256, r.media_type, r.width, r.height, r.size, r.phash) {
            (Some(_), Some(media_type), Some(width), Some(height), Some(size), Some(phash)) => Some(StyleImage {
                media_type,
                width,
                height,
                size,
                phash: format!("{:016x}", phash as u64),
                url: format!("/v1/task-style-cards/{}/image", r.id.0),
            }),
            _ => None,
        };
        Self {
            id: r.id,
            title: r.title,
            deliverable_type: r.deliverable_type,
            style_axis: r.style_axis,
            colour_temperature: r.colour_temperature,
            energy: r.energy,
            density: r.density,
            formality: r.formality,
            colour_samples: r.colour_samples,
            industries: r.industries,
            mood_keywords: r.mood_keywords,
            status: r.status.as_str().to_owned(),
            image,
            created_at: r.created_at,
        }
    }
}

/// Filters of the library. Levels filter by a range (`energy_min`, `energy_max`, ...).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StyleQuery {
    pub deliverable_type: Option<String>,
    pub style_axis: Option<String>,
    pub colour_temperature: Option<String>,
    /// Cards for this industry.
    pub industry: Option<String>,
    /// Cards with this mood keyword.
    pub mood: Option<String>,
    pub energy_min: Option<i16>,
    pub energy_max: Option<i16>,
    pub density_min: Option<i16>,
    pub density_max: Option<i16>,
    pub formality_min: Option<i16>,
    pub formality_max: Option<i16>,
    /// Staff only: `draft` or `retired` instead of the active cards.
    pub status: Option<String>,
    /// At most this many (default 50, at most 200).
    pub limit: Option<u32>,
}

/// Suggestions for a company: the filters of the library, and a brief whose chosen cards are left out.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuggestionQuery {
    pub deliverable_type: Option<String>,
    /// Leave out the cards this brief has chosen.
    pub brief_id: Option<Uuid>,
    /// At most this many (default 12, at most 50).
    pub limit: Option<u32>,
}

/// A suggested card and how well it agrees with what the company chose before (0–100).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Suggestion {
    pub card: StyleCard,
    pub score: u32,
}

/// Suggestions, best first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Suggestions {
    /// How many cards the company's briefs chose before (what the scores learn from).
    pub earlier_choices: usize,
    pub items: Vec<Suggestion>,
}
