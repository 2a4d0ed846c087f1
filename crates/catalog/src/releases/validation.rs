//! The validation report of a release: every problem at once, each with the field, the rule it breaks
//! and a message. It covers completeness (what a store's message needs), identifiers, and the stores'
//! style rules that make a delivery bounce: "feat." in a title beside a credited featured artist, titles
//! in capitals, two tracks of one title without a version, an explicit flag that contradicts the tracks,
//! a track count that does not fit the release type, a release date already past.

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use std::collections::HashMap;

use super::repo::ReleaseRow;
use crate::model::{CreditRole, ReleaseType, TerritoryMode};
use crate::tracks::repo::{AudioRow, CreditRow, ListedTrack};

/// One problem of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReleaseProblem {
    /// The field, as the API names it: `genre`, `tracks[2].isrc`, ...
    pub field: String,
    /// The rule broken (a field-error code of docs/api.md).
    pub rule: &'static str,
    pub message: String,
}

/// What the report looks at.
pub struct Snapshot<'a> {
    pub release: &'a ReleaseRow,
    pub credits: &'a [CreditRow],
    /// The track list in order, each with its credits.
    pub tracks: &'a [(ListedTrack, Vec<CreditRow>)],
    pub territory_dates: &'a [(String, NaiveDate)],
    pub today: NaiveDate,
    /// The release never reached a store: its date must not be past.
    pub first_release: bool,
    /// A UPC can be assigned at submission (the label has a pool or a prefix).
    pub upc_source: bool,
    /// ISRCs can be assigned at submission (the label has a registrant code).
    pub isrc_source: bool,
    /// The tracks' audio files, by track id.
    pub audio: &'a HashMap<uuid::Uuid, AudioRow>,
    pub has_artwork: bool,
}

/// Above this true peak, lossy encodings (AAC, Ogg, MP3) of the track clip: stores ask for -1 dBTP.
pub const TRUE_PEAK_CEILING_DBTP: f64 = -1.0;

/// A release of this type holds at most this many tracks of at most this total length (the stores'
/// common rule: a single has up to 3 tracks, an EP up to 6, both under 30 minutes).
fn fits(kind: ReleaseType, tracks: usize, total_ms: Option<i64>) -> Result<(), &'static str> {
    const HALF_HOUR_MS: i64 = 30 * 60 * 1000;
    let long = total_ms.is_some_and(|ms| ms >= HALF_HOUR_MS);
    match kind {
        ReleaseType::Single if tracks > 3 || long => Err("a single has 1 to 3 tracks, under 30 minutes in all"),
        ReleaseType::Ep if tracks > 6 || long => Err("an EP has up to 6 tracks, under 30 minutes in all"),
        ReleaseType::Album if tracks < 7 && total_ms.is_some_and(|ms| ms < HALF_HOUR_MS) => {
            Err("an album has 7 tracks or more, or lasts 30 minutes or more")
        }
        _ => Ok(()),
    }
}

/// Whether a title names a featured artist itself ("feat.", "ft.", "featuring").
fn names_featuring(title: &str) -> bool {
    let lower = title.to_lowercase();
    lower
        .split(|c: char| c.is_whitespace() || c == '(' || c == '[')
        .any(|w| matches!(w, "feat." | "feat" | "ft." | "featuring"))
}

/// Whether a title is written in capitals (two words or more, five letters or more, none lower case).
fn all_caps(title: &str) -> bool {
    let letters: Vec<char> = title.chars().filter(|c| c.is_alphabetic()).collect();
    title.split_whitespace().count() >= 2
        && letters.len() >= 5
        && letters.iter().all(|c| !c.is_lowercase())
        && letters.iter().any(|c| c.is_uppercase())
}

fn title_rules(field: &str, title: &str, featured: bool, out: &mut Vec<ReleaseProblem>) {
    if featured && names_featuring(title) {
        out.push(ReleaseProblem {
            field: field.into(),
            rule: "featuring_in_title",
            message: "names a featured artist: credit them as featured_artist and leave the title without \"feat.\""
                .into(),
        });
    }
    if all_caps(title) {
        out.push(ReleaseProblem {
            field: field.into(),
            rule: "all_caps",
            message: "is written in capitals; stores refuse that".into(),
        });
    }
}

/// Every problem of the release, in the order of its fields.
pub fn check(s: &Snapshot<'_>) -> Vec<ReleaseProblem> {
    let r = s.release;
    let mut out = Vec::new();
    let mut missing = |field: &str, what: &str| {
        out.push(ReleaseProblem { field: field.into(), rule: "required", message: format!("{what} is required") });
    };
    if r.genre.is_none() {
        missing("genre", "a genre");
    }
    if r.language.is_none() {
        missing("language", "the language of the metadata");
    }
    if r.release_date.is_none() {
        missing("release_date", "a release date");
    }
    if r.p_line.is_none() || r.p_line_year.is_none() {
        missing("p_line", "a ℗ line with its year");
    }
    if r.c_line.is_none() || r.c_line_year.is_none() {
        missing("c_line", "a © line with its year");
    }
    if r.upc.is_none() && !s.upc_source {
        missing("upc", "a UPC (or a GS1 prefix or pool in the label's settings to assign one)");
    }
    if !s.has_artwork {
        missing("artwork", "cover art (a square RGB JPEG or PNG of at least 3000 × 3000 pixels)");
    }
    if !s.credits.iter().any(|c| c.role == CreditRole::MainArtist) {
        out.push(ReleaseProblem {
            field: "credits".into(),
            rule: "main_artist_missing",
            message: "credit at least one main artist".into(),
        });
    }
    let featured = s.credits.iter().any(|c| c.role == CreditRole::FeaturedArtist);
    title_rules("title", &r.title, featured, &mut out);
    if let (Some(date), true) = (r.release_date, s.first_release)
        && date < s.today
    {
        out.push(ReleaseProblem {
            field: "release_date".into(),
            rule: "in_the_past",
            message: format!("{date} is past; a new release needs today's date or a later one"),
        });
    }
    if let (Some(original), Some(date)) = (r.original_release_date, r.release_date)
        && original > date
    {
        out.push(ReleaseProblem {
            field: "original_release_date".into(),
            rule: "after_release_date",
            message: "is after the release date".into(),
        });
    }
    if r.territory_mode == TerritoryMode::Only && r.territories.is_empty() {
        out.push(ReleaseProblem {
            field: "territories".into(),
            rule: "too_few",
            message: "name at least one territory, or choose worldwide".into(),
        });
    }
    for (territory, _) in s.territory_dates {
        let listed = r.territories.contains(territory);
        let available = match r.territory_mode {
            TerritoryMode::Worldwide => !listed,
            TerritoryMode::Only => listed,
        };
        if !available {
            out.push(ReleaseProblem {
                field: "territory_dates".into(),
                rule: "not_applicable",
                message: format!("{territory} is not a territory of the release"),
            });
        }
    }
    if s.tracks.is_empty() {
        out.push(ReleaseProblem {
            field: "tracks".into(),
            rule: "too_few",
            message: "a release needs at least one track".into(),
        });
    }
    let total_ms = s.tracks.iter().map(|(t, _)| t.track.duration_ms.map(i64::from)).sum::<Option<i64>>();
    if let Err(why) = fits(r.release_type, s.tracks.len(), total_ms) {
        out.push(ReleaseProblem { field: "release_type".into(), rule: "track_count", message: why.into() });
    }
    let mut any_explicit = false;
    for (i, (listed, credits)) in s.tracks.iter().enumerate() {
        let t = &listed.track;
        let field = |name: &str| format!("tracks[{i}].{name}");
        any_explicit |= t.explicit;
        if t.isrc.is_none() && !s.isrc_source {
            out.push(ReleaseProblem {
                field: field("isrc"),
                rule: "required",
                message: "an ISRC is required (or a registrant code in the label's settings to assign one)".into(),
            });
        }
        if !s.audio.contains_key(&t.id.0) {
            out.push(ReleaseProblem {
                field: field("audio"),
                rule: "required",
                message: "the audio (a stereo WAV or FLAC of at least 44.1 kHz and 16 bit) is required".into(),
            });
        }
        let featured = featured || credits.iter().any(|c| c.role == CreditRole::FeaturedArtist);
        title_rules(&field("title"), &t.title, featured, &mut out);
        let twin = s.tracks[..i].iter().any(|(other, _)| {
            other.track.title.to_lowercase() == t.title.to_lowercase()
                && other.track.version.as_deref().map(str::to_lowercase) == t.version.as_deref().map(str::to_lowercase)
        });
        if twin {
            out.push(ReleaseProblem {
                field: field("version"),
                rule: "duplicate_title",
                message: "another track has this title: tell them apart with a version (\"Radio Edit\", \"Live\")"
                    .into(),
            });
        }
    }
    if !s.tracks.is_empty() && r.explicit != any_explicit {
        out.push(ReleaseProblem {
            field: "explicit".into(),
            rule: "explicit_mismatch",
            message: if r.explicit {
                "the release is marked explicit but none of its tracks is".into()
            } else {
                "a track is explicit, so the release must be marked explicit too".into()
            },
        });
    }
    out
}

/// What does not stop a release but will sound worse in stores: clipping, and true peaks above
/// -1 dBTP.
pub fn warnings(s: &Snapshot<'_>) -> Vec<ReleaseProblem> {
    let mut out = Vec::new();
    for (i, (listed, _)) in s.tracks.iter().enumerate() {
        let Some(audio) = s.audio.get(&listed.track.id.0) else { continue };
        if audio.clipped_samples > 0 {
            out.push(ReleaseProblem {
                field: format!("tracks[{i}].audio"),
                rule: "clipping",
                message: format!("{} samples sit at full scale: the master clips", audio.clipped_samples),
            });
        }
        if let Some(peak) = audio.true_peak_dbtp.filter(|p| *p > TRUE_PEAK_CEILING_DBTP) {
            out.push(ReleaseProblem {
                field: format!("tracks[{i}].audio"),
                rule: "true_peak_over",
                message: format!("the true peak is {peak:.2} dBTP; above -1 dBTP, stores' lossy encodings clip"),
            });
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::model::{PartyId, ReleaseId, TrackId};
    use crate::state::ReleaseStatus;
    use crate::tracks::repo::TrackRow;

    pub(crate) fn release() -> ReleaseRow {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        ReleaseRow {
            id: ReleaseId::new(),
            org_id: uuid::Uuid::nil(),
            status: ReleaseStatus::Draft,
            release_type: ReleaseType::Single,
            title: "Night Drive".into(),
            version: None,
            display_artist: "Nova".into(),
            label_name: "Backline Records".into(),
            genre: Some("Electronic".into()),
            subgenre: None,
            language: Some("en".into()),
            explicit: false,
            p_line_year: Some(2026),
            p_line: Some("Backline Records".into()),
            c_line_year: Some(2026),
            c_line: Some("Backline Records".into()),
            original_release_date: None,
            release_date: NaiveDate::from_ymd_opt(2026, 6, 1),
            territory_mode: TerritoryMode::Worldwide,
            territories: vec![],
            price_tier: None,
            upc: Some("036000291452".into()),
            catalog_number: None,
            review_notes: serde_json::json!([]),
            created_by: uuid::Uuid::nil(),
            submitted_at: None,
            reviewed_at: None,
            created_at: at,
            updated_at: at,
        }
    }

    pub(crate) fn track(title: &str, ms: i32) -> (ListedTrack, Vec<CreditRow>) {
        let at = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let track = TrackRow {
            id: TrackId::new(),
            org_id: uuid::Uuid::nil(),
            title: title.into(),
            version: None,
            display_artist: "Nova".into(),
            isrc: Some("DEA122600001".into()),
            iswc: None,
            explicit: false,
            language: None,
            lyrics: None,
            bpm: None,
            musical_key: None,
            preview_start_ms: None,
            duration_ms: Some(ms),
            created_at: at,
            updated_at: at,
        };
        (ListedTrack { disc: 1, position: 1, track }, vec![])
    }

    pub(crate) fn credit(role: CreditRole) -> CreditRow {
        CreditRow { party_id: PartyId::new(), name: "Nova".into(), isni: None, ipi: None, role, ordinal: 1 }
    }

    pub(crate) fn audio(track: &TrackRow, peak: f64, clipped: i64) -> AudioRow {
        AudioRow {
            track_id: track.id,
            sha256: "0".repeat(64),
            md5: "0".repeat(32),
            size: 1000,
            format: "wav".into(),
            sample_rate: 44_100,
            bits_per_sample: 16,
            channels: 2,
            duration_ms: track.duration_ms.unwrap_or(1000),
            loudness_lufs: Some(-14.0),
            true_peak_dbtp: Some(peak),
            clipped_samples: clipped,
            file_name: None,
            uploaded_by: uuid::Uuid::nil(),
            uploaded_at: track.created_at,
        }
    }

    fn snapshot<'a>(
        r: &'a ReleaseRow,
        credits: &'a [CreditRow],
        tracks: &'a [(ListedTrack, Vec<CreditRow>)],
        audio: &'a HashMap<uuid::Uuid, AudioRow>,
        has_artwork: bool,
    ) -> Snapshot<'a> {
        Snapshot {
            release: r,
            credits,
            tracks,
            territory_dates: &[],
            today: NaiveDate::from_ymd_opt(2026, 5, 1).unwrap(),
            first_release: true,
            upc_source: false,
            isrc_source: false,
            audio,
            has_artwork,
        }
    }

    fn report(r: &ReleaseRow, credits: &[CreditRow], tracks: &[(ListedTrack, Vec<CreditRow>)]) -> Vec<ReleaseProblem> {
        let audio = tracks.iter().map(|(l, _)| (l.track.id.0, audio(&l.track, -3.0, 0))).collect();
        check(&snapshot(r, credits, tracks, &audio, true))
    }

    fn rules(problems: &[ReleaseProblem]) -> Vec<(&str, &str)> {
        problems.iter().map(|p| (p.field.as_str(), p.rule)).collect()
    }

    #[test]
    fn a_complete_single_has_no_problem() {
        let problems = report(&release(), &[credit(CreditRole::MainArtist)], &[track("Night Drive", 200_000)]);
        assert_eq!(problems, vec![]);
    }

    #[test]
    fn an_empty_draft_lists_everything_at_once() {
        let mut r = release();
        (r.genre, r.language, r.release_date, r.p_line, r.c_line, r.upc) = (None, None, None, None, None, None);
        let problems = check(&snapshot(&r, &[], &[], &HashMap::new(), false));
        assert_eq!(
            rules(&problems),
            [
                ("genre", "required"),
                ("language", "required"),
                ("release_date", "required"),
                ("p_line", "required"),
                ("c_line", "required"),
                ("upc", "required"),
                ("artwork", "required"),
                ("credits", "main_artist_missing"),
                ("tracks", "too_few"),
            ]
        );
        // A track without its audio file.
        let tracks = [track("A", 1000)];
        let problems = check(&snapshot(&release(), &[credit(CreditRole::MainArtist)], &tracks, &HashMap::new(), true));
        assert_eq!(rules(&problems), [("tracks[0].audio", "required")]);
    }

    #[test]
    fn clipping_and_true_peaks_above_minus_one_are_warned_at_the_edge() {
        let tracks = [track("A", 1000), track("B", 1000), track("C", 1000)];
        let audio: HashMap<_, _> = [(-1.0, 0), (-0.99, 0), (-3.0, 12)]
            .iter()
            .zip(&tracks)
            .map(|((peak, clipped), (l, _))| (l.track.id.0, audio(&l.track, *peak, *clipped)))
            .collect();
        let r = release();
        let credits = [credit(CreditRole::MainArtist)];
        let s = snapshot(&r, &credits, &tracks, &audio, true);
        assert_eq!(check(&s), vec![]);
        assert_eq!(rules(&warnings(&s)), [("tracks[1].audio", "true_peak_over"), ("tracks[2].audio", "clipping")]);
    }

    #[test]
    fn style_rules_catch_featuring_capitals_twins_and_explicit() {
        let mut r = release();
        r.release_type = ReleaseType::Ep;
        r.title = "Summer (feat. Kai)".into();
        let mut loud = track("DANCE ALL NIGHT", 180_000);
        loud.0.track.explicit = true;
        let tracks = [track("Summer", 200_000), track("summer", 190_000), loud];
        let problems = report(&r, &[credit(CreditRole::MainArtist), credit(CreditRole::FeaturedArtist)], &tracks);
        assert_eq!(
            rules(&problems),
            [
                ("title", "featuring_in_title"),
                ("tracks[1].version", "duplicate_title"),
                ("tracks[2].title", "all_caps"),
                ("explicit", "explicit_mismatch"),
            ]
        );
        // Without a credited featured artist, "feat." in a title is the artist's own business.
        let problems = report(&r, &[credit(CreditRole::MainArtist)], &tracks[..1]);
        assert!(!rules(&problems).contains(&("title", "featuring_in_title")));
    }

    #[test]
    fn track_counts_fit_the_type_at_their_edges() {
        let main = [credit(CreditRole::MainArtist)];
        let n = |count: usize, ms: i32| -> Vec<_> { (0..count).map(|i| track(&format!("Song {i}"), ms)).collect() };
        let mut r = release();
        assert!(report(&r, &main, &n(3, 100_000)).is_empty(), "a single of three tracks");
        assert_eq!(rules(&report(&r, &main, &n(4, 100_000))), [("release_type", "track_count")]);
        // 29:59.999 in all is still a single; 30:00 is not.
        assert!(report(&r, &main, &n(1, 30 * 60 * 1000 - 1)).is_empty());
        assert_eq!(rules(&report(&r, &main, &n(1, 30 * 60 * 1000))), [("release_type", "track_count")]);
        r.release_type = ReleaseType::Ep;
        assert!(report(&r, &main, &n(6, 100_000)).is_empty());
        assert_eq!(rules(&report(&r, &main, &n(7, 100_000))), [("release_type", "track_count")]);
        r.release_type = ReleaseType::Album;
        assert!(report(&r, &main, &n(7, 100_000)).is_empty());
        assert_eq!(rules(&report(&r, &main, &n(6, 100_000))), [("release_type", "track_count")]);
        assert!(report(&r, &main, &n(6, 300_000)).is_empty(), "six tracks of 30 minutes in all");
    }

    #[test]
    fn a_new_release_date_may_be_today_but_not_yesterday() {
        let main = [credit(CreditRole::MainArtist)];
        let mut r = release();
        r.release_date = NaiveDate::from_ymd_opt(2026, 5, 1);
        assert!(report(&r, &main, &[track("A", 1000)]).is_empty());
        r.release_date = NaiveDate::from_ymd_opt(2026, 4, 30);
        assert_eq!(rules(&report(&r, &main, &[track("A", 1000)])), [("release_date", "in_the_past")]);
    }
}
