//! The DDEX ERN 4.3 NewReleaseMessage of one release for one store: header (sender and recipient party
//! ids), parties, sound recordings (ISRC, ℗ line, duration, artists and contributors), the release (ICPN,
//! titles, artists, label, lines, genre, dates, the track list as resource groups per disc) and deals per
//! territory with their start dates. A takedown carries no deal: DDEX's rule is that the latest message's
//! deals replace the earlier ones. The message validates against the official XSD (tests check every one).

use std::fmt::Write;

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use platform::markup::escape as esc;

use super::repo::ReleaseRow;
use crate::model::TerritoryMode;
use crate::tracks::repo::{CreditRow, ListedTrack};

pub const NAMESPACE: &str = "http://ddex.net/xml/ern/43";
pub const SCHEMA_LOCATION: &str = "http://service.ddex.net/xml/ern/43/release-notification.xsd";

/// A party of the message's header.
#[derive(Debug, Clone)]
pub struct Messenger {
    pub dpid: String,
    pub name: String,
}

/// How the release reaches the store: what the message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The release with its deals.
    Release,
    /// The release with no deal: the store takes it down everywhere.
    Takedown,
}

/// One audio file the message names (relative to the batch folder), with its MD5.
#[derive(Debug, Clone)]
pub struct AudioFile {
    pub uri: String,
    pub md5: String,
}

/// The cover art the message names, with its MD5 and size in pixels.
#[derive(Debug, Clone)]
pub struct ImageFile {
    pub uri: String,
    pub md5: String,
    /// `JPEG` or `PNG`.
    pub codec: &'static str,
    pub width: i32,
    pub height: i32,
}

/// Everything one message says.
pub struct Message<'a> {
    pub message_id: &'a str,
    /// The same for every message about one release to one store.
    pub thread_id: &'a str,
    pub created: DateTime<Utc>,
    pub sender: &'a Messenger,
    pub recipient: &'a Messenger,
    pub release: &'a ReleaseRow,
    pub credits: &'a [CreditRow],
    /// The track list in order with each track's credits and, where uploaded, its file.
    pub tracks: &'a [(ListedTrack, Vec<CreditRow>, Option<AudioFile>)],
    pub territory_dates: &'a [(String, NaiveDate)],
    pub artwork: Option<&'a ImageFile>,
    /// Territories left out of every deal (a rights conflict there).
    pub blocked: &'a [String],
    pub action: Action,
    /// A test message (`TestMessage`) that the store must not put live.
    pub test: bool,
}

/// An ISO 8601 duration (`PT3M35S`, `PT1H2M3.5S`).
pub fn duration(ms: i64) -> String {
    let (h, rest) = (ms / 3_600_000, ms % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, millis) = (rest / 1000, rest % 1000);
    let mut out = String::from("PT");
    if h > 0 {
        let _ = write!(out, "{h}H");
    }
    if h > 0 || m > 0 {
        let _ = write!(out, "{m}M");
    }
    if millis > 0 {
        let _ = write!(out, "{s}.{millis:03}S");
    } else {
        let _ = write!(out, "{s}S");
    }
    out
}

/// A small writer of indented elements.
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn open(&mut self, tag: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}>");
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{tag}>");
    }

    fn text(&mut self, tag: &str, value: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag}>{}</{tag}>", esc(value));
    }

    fn text_attr(&mut self, tag: &str, attr: &str, attr_value: &str, value: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{tag} {attr}=\"{}\">{}</{tag}>", esc(attr_value), esc(value));
    }

    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }
}

/// The parties the message names: each credited person once, then the label.
struct Parties {
    people: Vec<(uuid::Uuid, String, Option<String>, Option<String>)>,
}

impl Parties {
    fn reference(&self, id: uuid::Uuid) -> String {
        let at = self.people.iter().position(|(p, ..)| *p == id).unwrap_or(0);
        format!("P{}", at + 1)
    }

    fn add(&mut self, c: &CreditRow) {
        if !self.people.iter().any(|(p, ..)| *p == c.party_id.0) {
            self.people.push((c.party_id.0, c.name.clone(), c.isni.clone(), c.ipi.clone()));
        }
    }
}

const LABEL_REFERENCE: &str = "PLabel";

fn artists_and_contributors(x: &mut Xml, parties: &Parties, credits: &[CreditRow], with_contributors: bool) {
    for (i, c) in credits.iter().filter(|c| c.role.is_display_artist()).enumerate() {
        x.indent();
        let _ = writeln!(x.out, "<DisplayArtist SequenceNumber=\"{}\">", i + 1);
        x.depth += 1;
        x.text("ArtistPartyReference", &parties.reference(c.party_id.0));
        x.text("DisplayArtistRole", c.role.ddex());
        x.close("DisplayArtist");
    }
    if with_contributors {
        for (i, c) in credits.iter().filter(|c| !c.role.is_display_artist()).enumerate() {
            x.indent();
            let _ = writeln!(x.out, "<Contributor SequenceNumber=\"{}\">", i + 1);
            x.depth += 1;
            x.text("ContributorPartyReference", &parties.reference(c.party_id.0));
            x.text("Role", c.role.ddex());
            x.close("Contributor");
        }
    }
}

/// A delivered file: its place in the batch and its MD5.
fn file_element(x: &mut Xml, uri: &str, md5: &str) {
    x.open("File");
    x.text("URI", uri);
    x.open("HashSum");
    x.text("Algorithm", "MD5");
    x.text("HashSumValue", md5);
    x.close("HashSum");
    x.close("File");
}

fn parental_warning(explicit: bool) -> &'static str {
    if explicit { "Explicit" } else { "NotExplicit" }
}

/// The message as XML (UTF-8).
pub fn render(m: &Message<'_>) -> String {
    let r = m.release;
    let mut parties = Parties { people: Vec::new() };
    m.credits.iter().for_each(|c| parties.add(c));
    for (_, credits, _) in m.tracks {
        credits.iter().for_each(|c| parties.add(c));
    }
    let mut x = Xml { out: String::with_capacity(8192), depth: 0 };
    x.out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x.out,
        "<ern:NewReleaseMessage xmlns:ern=\"{NAMESPACE}\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xsi:schemaLocation=\"{NAMESPACE} {SCHEMA_LOCATION}\" AvsVersionId=\"6\" LanguageAndScriptCode=\"{}\" \
         ReleaseProfileVersionId=\"Audio\">",
        esc(r.language.as_deref().unwrap_or("en"))
    );
    x.depth = 1;

    x.open("MessageHeader");
    x.text("MessageThreadId", m.thread_id);
    x.text("MessageId", m.message_id);
    for (tag, party) in [("MessageSender", m.sender), ("MessageRecipient", m.recipient)] {
        x.open(tag);
        x.text("PartyId", &party.dpid);
        x.open("PartyName");
        x.text("FullName", &party.name);
        x.close("PartyName");
        x.close(tag);
    }
    x.text("MessageCreatedDateTime", &m.created.to_rfc3339_opts(SecondsFormat::Secs, true));
    x.text("MessageControlType", if m.test { "TestMessage" } else { "LiveMessage" });
    x.close("MessageHeader");

    x.open("PartyList");
    for (i, (_, name, isni, ipi)) in parties.people.iter().enumerate() {
        x.open("Party");
        x.text("PartyReference", &format!("P{}", i + 1));
        x.open("PartyName");
        x.text("FullName", name);
        x.close("PartyName");
        if isni.is_some() || ipi.is_some() {
            x.open("PartyId");
            if let Some(isni) = isni {
                x.text("ISNI", isni);
            }
            if let Some(ipi) = ipi {
                x.text("IpiNameNumber", ipi);
            }
            x.close("PartyId");
        }
        x.close("Party");
    }
    x.open("Party");
    x.text("PartyReference", LABEL_REFERENCE);
    x.open("PartyName");
    x.text("FullName", &r.label_name);
    x.close("PartyName");
    x.close("Party");
    x.close("PartyList");

    x.open("ResourceList");
    for (i, (listed, credits, file)) in m.tracks.iter().enumerate() {
        let t = &listed.track;
        x.open("SoundRecording");
        x.text("ResourceReference", &format!("A{}", i + 1));
        x.text("Type", "MusicalWorkSoundRecording");
        x.open("SoundRecordingEdition");
        x.open("ResourceId");
        x.text("ISRC", t.isrc.as_deref().unwrap_or_default());
        x.close("ResourceId");
        if let (Some(year), Some(line)) = (r.p_line_year, &r.p_line) {
            x.open("PLine");
            x.text("Year", &year.to_string());
            x.text("PLineText", &format!("℗ {year} {line}"));
            x.close("PLine");
        }
        if let Some(file) = file {
            x.open("TechnicalDetails");
            x.text("TechnicalResourceDetailsReference", &format!("T{}", i + 1));
            x.open("DeliveryFile");
            x.text("Type", "AudioFile");
            file_element(&mut x, &file.uri, &file.md5);
            x.close("DeliveryFile");
            x.close("TechnicalDetails");
        }
        x.close("SoundRecordingEdition");
        if let Some(iswc) = &t.iswc {
            x.open("WorkId");
            x.text("ISWC", iswc);
            x.close("WorkId");
        }
        x.text("DisplayTitleText", &full_title(&t.title, t.version.as_deref()));
        x.open("DisplayTitle");
        x.text("TitleText", &t.title);
        if let Some(v) = &t.version {
            x.text("SubTitle", v);
        }
        x.close("DisplayTitle");
        x.text("DisplayArtistName", &t.display_artist);
        let track_credits: Vec<CreditRow> = if credits.iter().any(|c| c.role.is_display_artist()) {
            credits.clone()
        } else {
            // A track without artists of its own has the release's.
            m.credits.iter().filter(|c| c.role.is_display_artist()).cloned().chain(credits.iter().cloned()).collect()
        };
        artists_and_contributors(&mut x, &parties, &track_credits, true);
        x.text("Duration", &duration(i64::from(t.duration_ms.unwrap_or(0))));
        x.text("ParentalWarningType", parental_warning(t.explicit));
        x.close("SoundRecording");
    }
    let image_reference = format!("A{}", m.tracks.len() + 1);
    if let Some(image) = m.artwork {
        x.open("Image");
        x.text("ResourceReference", &image_reference);
        x.text("Type", "FrontCoverImage");
        x.open("ResourceId");
        x.text_attr(
            "ProprietaryId",
            "Namespace",
            &format!("DPID:{}", m.sender.dpid),
            &format!("{}-cover", r.upc.as_deref().unwrap_or("release")),
        );
        x.close("ResourceId");
        x.open("TechnicalDetails");
        x.text("TechnicalResourceDetailsReference", &format!("T{}", m.tracks.len() + 1));
        x.text("ImageCodecType", image.codec);
        x.text("ImageHeight", &image.height.to_string());
        x.text("ImageWidth", &image.width.to_string());
        file_element(&mut x, &image.uri, &image.md5);
        x.close("TechnicalDetails");
        x.close("Image");
    }
    x.close("ResourceList");

    x.open("ReleaseList");
    x.open("Release");
    x.text("ReleaseReference", "R0");
    x.text("ReleaseType", r.release_type.ddex());
    x.open("ReleaseId");
    if let Some(upc) = &r.upc {
        x.text("ICPN", upc);
    }
    if let Some(number) = &r.catalog_number {
        x.text_attr("CatalogNumber", "Namespace", &format!("DPID:{}", m.sender.dpid), number);
    }
    x.close("ReleaseId");
    x.text("DisplayTitleText", &full_title(&r.title, r.version.as_deref()));
    x.open("DisplayTitle");
    x.text("TitleText", &r.title);
    if let Some(v) = &r.version {
        x.text("SubTitle", v);
    }
    x.close("DisplayTitle");
    x.text("DisplayArtistName", &r.display_artist);
    artists_and_contributors(&mut x, &parties, m.credits, false);
    x.text("ReleaseLabelReference", LABEL_REFERENCE);
    if let (Some(year), Some(line)) = (r.p_line_year, &r.p_line) {
        x.open("PLine");
        x.text("Year", &year.to_string());
        x.text("PLineText", &format!("℗ {year} {line}"));
        x.close("PLine");
    }
    if let (Some(year), Some(line)) = (r.c_line_year, &r.c_line) {
        x.open("CLine");
        x.text("Year", &year.to_string());
        x.text("CLineText", &format!("© {year} {line}"));
        x.close("CLine");
    }
    let total: i64 = m.tracks.iter().map(|(l, ..)| i64::from(l.track.duration_ms.unwrap_or(0))).sum();
    x.text("Duration", &duration(total));
    x.open("Genre");
    x.text("GenreText", r.genre.as_deref().unwrap_or_default());
    if let Some(sub) = &r.subgenre {
        x.text("SubGenre", sub);
    }
    x.close("Genre");
    if let Some(date) = r.release_date {
        x.text("ReleaseDate", &date.to_string());
    }
    for (territory, date) in m.territory_dates {
        x.text_attr("ReleaseDate", "ApplicableTerritoryCode", territory, &date.to_string());
    }
    if let Some(date) = r.original_release_date {
        x.text("OriginalReleaseDate", &date.to_string());
    }
    x.text("ParentalWarningType", parental_warning(r.explicit));
    x.open("ResourceGroup");
    let mut discs: Vec<i16> = m.tracks.iter().map(|(l, ..)| l.disc).collect();
    discs.dedup();
    for disc in discs {
        // Each disc is a component of the release.
        x.indent();
        x.out.push_str("<ResourceGroup ResourceGroupType=\"Component\">\n");
        x.depth += 1;
        x.text("SequenceNumber", &disc.to_string());
        for (i, (listed, ..)) in m.tracks.iter().enumerate().filter(|(_, (l, ..))| l.disc == disc) {
            x.open("ResourceGroupContentItem");
            x.text("SequenceNumber", &listed.position.to_string());
            x.text("ReleaseResourceReference", &format!("A{}", i + 1));
            x.close("ResourceGroupContentItem");
        }
        x.close("ResourceGroup");
    }
    if m.artwork.is_some() {
        x.text("LinkedReleaseResourceReference", &image_reference);
    }
    x.close("ResourceGroup");
    x.close("Release");
    x.close("ReleaseList");

    if m.action == Action::Release {
        x.open("DealList");
        x.open("ReleaseDeal");
        x.text("DealReleaseReference", "R0");
        for (territories, excluded, start) in deals(r, m.territory_dates, m.blocked) {
            for (model, uses) in [
                ("SubscriptionModel", &["OnDemandStream", "NonInteractiveStream"][..]),
                ("AdvertisementSupportedModel", &["OnDemandStream", "NonInteractiveStream"][..]),
                ("PayAsYouGoModel", &["PermanentDownload"][..]),
            ] {
                x.open("Deal");
                x.open("DealTerms");
                let tag = if excluded { "ExcludedTerritoryCode" } else { "TerritoryCode" };
                for t in &territories {
                    x.text(tag, t);
                }
                x.open("ValidityPeriod");
                x.text("StartDate", &start.to_string());
                x.close("ValidityPeriod");
                x.text("CommercialModelType", model);
                for u in uses {
                    x.text("UseType", u);
                }
                x.close("DealTerms");
                x.close("Deal");
            }
        }
        x.close("ReleaseDeal");
        x.close("DealList");
    }
    x.depth = 0;
    x.out.push_str("</ern:NewReleaseMessage>\n");
    x.out
}

/// A title with its version in parentheses, as stores display it.
fn full_title(title: &str, version: Option<&str>) -> String {
    match version {
        Some(v) => format!("{title} ({v})"),
        None => title.to_owned(),
    }
}

/// The deals' territories and start dates: the release's territories from its date, less those with a
/// date of their own, which get a deal each. `(codes, excluded, start)`: with `excluded`, the codes are
/// the territories left out of a worldwide deal.
fn deals(r: &ReleaseRow, own_dates: &[(String, NaiveDate)], blocked: &[String]) -> Vec<(Vec<String>, bool, NaiveDate)> {
    let Some(start) = r.release_date else { return Vec::new() };
    // A date of its own counts only in a territory the release is in, and not blocked.
    let own_dates: Vec<&(String, NaiveDate)> = own_dates
        .iter()
        .filter(|(t, _)| r.territories.contains(t) == (r.territory_mode == TerritoryMode::Only) && !blocked.contains(t))
        .collect();
    let own: Vec<&String> = own_dates.iter().map(|(t, _)| t).collect();
    let mut out = Vec::new();
    match r.territory_mode {
        TerritoryMode::Worldwide => {
            let mut excluded: Vec<String> =
                r.territories.iter().chain(own.iter().copied()).chain(blocked).cloned().collect();
            excluded.sort();
            excluded.dedup();
            if excluded.is_empty() {
                out.push((vec!["Worldwide".to_owned()], false, start));
            } else {
                out.push((excluded, true, start));
            }
        }
        TerritoryMode::Only => {
            let listed: Vec<String> =
                r.territories.iter().filter(|t| !own.contains(t) && !blocked.contains(t)).cloned().collect();
            if !listed.is_empty() {
                out.push((listed, false, start));
            }
        }
    }
    for (territory, date) in own_dates {
        out.push((vec![territory.clone()], false, *date));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::model::{CreditRole, ReleaseType};
    use crate::releases::validation::tests::{credit, release, track};

    fn render_for(
        blocked: &[String],
        r: &ReleaseRow,
        tracks: &[(ListedTrack, Vec<CreditRow>)],
        dates: &[(String, NaiveDate)],
        action: Action,
    ) -> String {
        let sender = Messenger { dpid: "PADPIDA2026120201A".into(), name: "North & South Records".into() };
        let recipient = Messenger { dpid: "PADPIDA2026120299Z".into(), name: "Streamly".into() };
        let mut main = credit(CreditRole::MainArtist);
        main.isni = Some("0000000121032683".into());
        let credits = [main, credit(CreditRole::FeaturedArtist)];
        let tracks: Vec<_> = tracks
            .iter()
            .enumerate()
            .map(|(i, (l, c))| {
                let file = (i == 0).then(|| AudioFile {
                    uri: "resources/A1.flac".into(),
                    md5: "9e107d9d372bb6826bd81d3542a419d6".into(),
                });
                (l.clone(), c.clone(), file)
            })
            .collect();
        render(&Message {
            message_id: "m1",
            thread_id: "t1",
            created: Utc.with_ymd_and_hms(2026, 12, 2, 10, 0, 0).unwrap(),
            sender: &sender,
            recipient: &recipient,
            release: r,
            credits: &credits,
            tracks: &tracks,
            territory_dates: dates,
            artwork: Some(&ImageFile {
                uri: "resources/cover.jpg".into(),
                md5: "0".repeat(32),
                codec: "JPEG",
                width: 3000,
                height: 3000,
            }),
            blocked,
            action,
            test: false,
        })
    }

    /// Every shape of message validates against the official XSD (xmllint), and says what it should.
    #[test]
    fn messages_of_every_shape_validate_against_the_xsd() {
        let mut r = release();
        r.title = "Tom & Jerry <Live>".into();
        r.version = Some("Deluxe".into());
        r.catalog_number = Some("NSR-001".into());
        r.original_release_date = NaiveDate::from_ymd_opt(1999, 1, 1);
        let mut second = track("Second", 61_500);
        second.0.disc = 2;
        second.0.track.explicit = true;
        second.0.track.iswc = Some("T0345246801".into());
        second.1 = vec![credit(CreditRole::Producer), credit(CreditRole::Remixer)];
        let tracks = [track("First", 215_000), second];

        // Worldwide: one deal per commercial model.
        let xml = render_for(&[], &r, &tracks, &[], Action::Release);
        testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(xml.contains("<TerritoryCode>Worldwide</TerritoryCode>"));
        assert!(xml.contains("<DisplayTitleText>Tom &amp; Jerry &lt;Live&gt; (Deluxe)</DisplayTitleText>"));
        assert!(xml.contains("<ICPN>036000291452</ICPN>"));
        assert!(xml.contains("<Duration>PT1M1.500S</Duration>"));
        assert_eq!(xml.matches("<Deal>").count(), 3);
        assert_eq!(xml.matches("<ResourceGroupContentItem>").count(), 2);
        assert!(xml.contains("<LinkedReleaseResourceReference>A3</LinkedReleaseResourceReference>"));
        assert!(xml.contains("<Type>FrontCoverImage</Type>"));

        // Worldwide but two territories, one with a date of its own: excluded from the main deal, a deal of its own.
        r.territories = vec!["KP".into()];
        let nz = NaiveDate::from_ymd_opt(2026, 5, 31).unwrap();
        let xml = render_for(&["RU".to_owned()], &r, &tracks, &[("NZ".into(), nz)], Action::Release);
        testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(xml.contains("<ExcludedTerritoryCode>KP</ExcludedTerritoryCode>"));
        assert!(xml.contains("<ExcludedTerritoryCode>NZ</ExcludedTerritoryCode>"));
        assert!(xml.contains("<ExcludedTerritoryCode>RU</ExcludedTerritoryCode>"), "a blocked territory is left out");
        assert!(xml.contains("<StartDate>2026-05-31</StartDate>"));
        assert!(xml.contains("<ReleaseDate ApplicableTerritoryCode=\"NZ\">2026-05-31</ReleaseDate>"));

        // Only some territories; an album; explicit.
        r.territory_mode = TerritoryMode::Only;
        r.territories = vec!["AT".into(), "DE".into()];
        r.release_type = ReleaseType::Album;
        r.explicit = true;
        let xml = render_for(&[], &r, &tracks, &[], Action::Release);
        testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(xml.contains("<TerritoryCode>AT</TerritoryCode>"));
        assert!(!xml.contains("Worldwide"));

        // A takedown: the release without a deal.
        let xml = render_for(&[], &r, &tracks, &[], Action::Takedown);
        testkit::ddex::validate_ern43(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
        assert!(!xml.contains("<DealList>"));
    }

    #[test]
    fn a_broken_message_is_caught_by_the_validator() {
        let xml = render_for(&[], &release(), &[track("A", 1000)], &[], Action::Release);
        let broken = xml.replace("<ReleaseType>Single</ReleaseType>", "");
        assert!(testkit::ddex::validate_ern43(&broken).is_err());
    }

    #[test]
    fn durations_are_iso_8601() {
        assert_eq!(duration(215_000), "PT3M35S");
        assert_eq!(duration(59_999), "PT59.999S");
        assert_eq!(duration(3_600_000), "PT1H0M0S");
        assert_eq!(duration(3_723_500), "PT1H2M3.500S");
        assert_eq!(duration(0), "PT0S");
    }
}
