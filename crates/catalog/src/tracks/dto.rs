//! The area's request and response bodies.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::repo::{AudioRow, CreditRow, ListedTrack, TrackRow};
use crate::fields::CreditInput;
use crate::identifiers::{Isrc, Iswc};
use crate::model::{PartyId, TrackId};

/// A credit on a release or a track.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Credit {
    pub party_id: PartyId,
    pub name: String,
    /// `main_artist`, `featured_artist`, `remixer`, `producer`, `composer`, ...
    pub role: String,
    pub isni: Option<String>,
    pub ipi: Option<String>,
}

impl From<CreditRow> for Credit {
    fn from(c: CreditRow) -> Self {
        Self { party_id: c.party_id, name: c.name, role: c.role.as_str().into(), isni: c.isni, ipi: c.ipi }
    }
}

/// A recording.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Track {
    pub id: TrackId,
    pub label_id: Uuid,
    pub title: String,
    pub version: Option<String>,
    pub display_artist: String,
    /// 12 characters, no hyphens (`DEA122600001`).
    pub isrc: Option<String>,
    /// `DE-A12-26-00001`.
    pub isrc_display: Option<String>,
    /// `T` and ten digits.
    pub iswc: Option<String>,
    pub explicit: bool,
    pub language: Option<String>,
    pub lyrics: Option<String>,
    pub bpm: Option<f64>,
    pub musical_key: Option<String>,
    pub preview_start_ms: Option<i32>,
    /// Measured from the audio file.
    pub duration_ms: Option<i32>,
    pub credits: Vec<Credit>,
    /// The uploaded audio file, as decoded and measured.
    pub audio: Option<TrackAudio>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A track's audio file: what decoding it found, and its loudness (EBU R128) and peaks.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrackAudio {
    /// `wav` or `flac`.
    pub format: String,
    pub sample_rate: i32,
    pub bits_per_sample: i16,
    pub channels: i16,
    pub duration_ms: i32,
    /// Integrated loudness in LUFS (streaming services play at about -14 LUFS).
    pub loudness_lufs: Option<f64>,
    /// The highest true peak in dBTP (above -1 dBTP, lossy encodings clip).
    pub true_peak_dbtp: Option<f64>,
    /// Samples at digital full scale.
    pub clipped_samples: i64,
    pub size: i64,
    pub sha256: String,
    pub md5: String,
    pub file_name: Option<String>,
    pub uploaded_at: DateTime<Utc>,
}

impl From<AudioRow> for TrackAudio {
    fn from(a: AudioRow) -> Self {
        Self {
            format: a.format,
            sample_rate: a.sample_rate,
            bits_per_sample: a.bits_per_sample,
            channels: a.channels,
            duration_ms: a.duration_ms,
            loudness_lufs: a.loudness_lufs,
            true_peak_dbtp: a.true_peak_dbtp,
            clipped_samples: a.clipped_samples,
            size: a.size,
            sha256: a.sha256,
            md5: a.md5,
            file_name: a.file_name,
            uploaded_at: a.uploaded_at,
        }
    }
}

impl Track {
    pub fn new(t: TrackRow, credits: Vec<CreditRow>, audio: Option<AudioRow>) -> Self {
        Self {
            id: t.id,
            label_id: t.org_id,
            isrc_display: t.isrc.as_deref().and_then(|i| Isrc::parse(i).ok()).map(|i| i.display()),
            isrc: t.isrc,
            iswc: t.iswc,
            title: t.title,
            version: t.version,
            display_artist: t.display_artist,
            explicit: t.explicit,
            language: t.language,
            lyrics: t.lyrics,
            bpm: t.bpm,
            musical_key: t.musical_key,
            preview_start_ms: t.preview_start_ms,
            duration_ms: t.duration_ms,
            credits: credits.into_iter().map(Credit::from).collect(),
            audio: audio.map(TrackAudio::from),
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

/// A track in its place on a release.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReleaseTrack {
    pub disc: i16,
    pub position: i16,
    pub track: Track,
}

impl ReleaseTrack {
    pub fn new(listed: ListedTrack, credits: Vec<CreditRow>, audio: Option<AudioRow>) -> Self {
        Self { disc: listed.disc, position: listed.position, track: Track::new(listed.track, credits, audio) }
    }
}

/// Add a track to a release (a new recording, or `track_id` of one the label has), or change a track.
/// When changing, a field left out stays as it is and `""` clears an optional text.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackRequest {
    /// Only when adding: put an existing track of the label on the release instead of a new one.
    pub track_id: Option<TrackId>,
    /// Only when adding: the disc (1 by default) and position (after the disc's last by default).
    pub disc: Option<i16>,
    pub position: Option<i16>,
    pub title: Option<String>,
    pub version: Option<String>,
    /// The release's display artist by default.
    pub display_artist: Option<String>,
    /// `CC-XXX-YY-NNNNN`; left out, one is assigned from the label's registrant code at submission.
    pub isrc: Option<String>,
    /// `T-DDD.DDD.DDD-C`, check digit verified.
    pub iswc: Option<String>,
    pub explicit: Option<bool>,
    pub language: Option<String>,
    pub lyrics: Option<String>,
    pub bpm: Option<f64>,
    pub musical_key: Option<String>,
    /// Where a store's preview clip starts, in milliseconds (within the audio).
    pub preview_start_ms: Option<i32>,
    /// Replaces the track's credits.
    pub credits: Option<Vec<CreditInput>>,
}

/// The new order of a release's tracks: every track of the release once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackOrder {
    pub tracks: Vec<TrackPlace>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackPlace {
    pub track_id: TrackId,
    pub disc: i16,
    pub position: i16,
}

pub(crate) fn parse_isrc(text: &str) -> Result<String, &'static str> {
    Isrc::parse(text).map(|i| i.as_str().to_owned())
}

pub(crate) fn parse_iswc(text: &str) -> Result<String, &'static str> {
    Iswc::parse(text).map(|i| i.as_str().to_owned())
}
