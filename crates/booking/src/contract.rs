//! Contract documents: generated from an agreement, rendered as one canonical plain text whose SHA-256
//! identifies the version (signatures name it), and as a PDF whose text is extractable and shows the
//! hash. The PDF uses the standard Helvetica font (no embedding) with WinAnsi encoding.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::bookings::dto::Proposal;
use crate::commission::Figures;

/// When the balance falls due: this long before the show.
pub const BALANCE_BEFORE: Duration = Duration::hours(24);

/// One payment of the schedule; the milestones' shares sum to 10,000 basis points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Milestone {
    /// `deposit` or `balance`.
    pub name: String,
    pub bps: i64,
    /// Minor units of what the organizer pays.
    pub amount: i64,
    /// `at confirmation`, or a time.
    pub due: String,
}

/// A file annexed to a contract (a stage plot, a technical rider, artwork to be shown): named in the
/// text with its SHA-256, so that a signature of the version covers its exact bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(as = ContractAnnex)]
pub struct Annex {
    /// Its number among the contract's annexes, from 1 (`GET /v1/bookings/{id}/contract/annexes/{number}`).
    pub number: i32,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    /// Lower-case hex.
    pub sha256: String,
}

/// A contract's content.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Document {
    pub booking_id: uuid::Uuid,
    pub version: i32,
    pub organizer: String,
    pub artist: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub venue: Option<String>,
    pub terms: Proposal,
    pub category: String,
    pub figures: Figures,
    pub schedule: Vec<Milestone>,
    /// Clauses added by edit requests, in order.
    pub clauses: Vec<String>,
    /// Files annexed to the contract, in order.
    #[serde(default)]
    pub annexes: Vec<Annex>,
}

/// The payment schedule of an agreement: the deposit share of what the organizer pays at confirmation,
/// the rest 24 hours before the show.
pub fn schedule(figures: &Figures, deposit_bps: i64, starts_at: DateTime<Utc>) -> Vec<Milestone> {
    let deposit = ledger::money::share_bps(figures.organizer_pays, deposit_bps);
    vec![
        Milestone { name: "deposit".into(), bps: deposit_bps, amount: deposit, due: "at confirmation".into() },
        Milestone {
            name: "balance".into(),
            bps: 10_000 - deposit_bps,
            amount: figures.organizer_pays - deposit,
            due: (starts_at - BALANCE_BEFORE).format("%Y-%m-%d %H:%M UTC").to_string(),
        },
    ]
}

fn money(amount: i64, currency: &str) -> String {
    ledger::model::Currency::parse(currency).map_or_else(|| format!("{amount} {currency}"), |c| c.display(amount))
}

fn percent(bps: i64) -> String {
    format!("{}.{:02}%", bps / 100, bps % 100)
}

/// The canonical text of a contract: what is hashed, signed and printed.
pub fn text(doc: &Document) -> String {
    let t = &doc.terms;
    let mut out = Vec::new();
    out.push("BOOKING CONTRACT".to_owned());
    out.push(format!("Booking {}, version {}", doc.booking_id, doc.version));
    out.push(String::new());
    out.push("1. Parties".into());
    out.push(format!("Organizer: {}", doc.organizer));
    out.push(format!("Artist: {}", doc.artist));
    out.push(String::new());
    out.push("2. Performance".into());
    out.push(format!(
        "Date and slot: {} to {}",
        doc.starts_at.format("%Y-%m-%d %H:%M UTC"),
        doc.ends_at.format("%Y-%m-%d %H:%M UTC")
    ));
    if let Some(venue) = &doc.venue {
        out.push(format!("Venue: {venue}"));
    }
    out.push(String::new());
    out.push("3. Fee and deal".into());
    out.push(format!("Fee: {} ({} deal)", money(t.fee, &t.currency), t.deal_type));
    if t.deal_type != "flat" {
        out.push(format!("Artist's share of the event's net ticket revenue: {}", percent(i64::from(t.door_bps))));
    }
    out.push(format!("Artist category: {}", doc.category));
    out.push(format!(
        "The organizer pays {} (fee plus {} organizer fee); the artist receives {} ({} of the fee).",
        money(doc.figures.organizer_pays, &t.currency),
        percent(doc.figures.organizer_fee_bps),
        money(doc.figures.artist_receives, &t.currency),
        percent(doc.figures.artist_bps)
    ));
    out.push(String::new());
    out.push("4. Payment schedule".into());
    for m in &doc.schedule {
        out.push(format!("{}: {} ({}), due {}", m.name, money(m.amount, &t.currency), percent(m.bps), m.due));
    }
    out.push(String::new());
    out.push("5. Cancellation".into());
    out.push(
        "By the artist: 0% of the fee more than 90 days before the show, 20% at 30 to 90 days, 50% under 30 days."
            .into(),
    );
    out.push(
        "By the organizer: 20% of the fee more than 30 days before the show, 50% at 15 to 30 days, 100% under 15 days."
            .into(),
    );
    out.push("The rest of what was paid is refunded.".into());
    out.push(String::new());
    out.push("6. Riders".into());
    match t.rider.as_object() {
        Some(rider) if !rider.is_empty() => {
            for (key, value) in rider {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                out.push(format!("{key}: {value}"));
            }
        }
        _ => out.push("None.".into()),
    }
    if !doc.clauses.is_empty() {
        out.push(String::new());
        out.push("7. Further clauses".into());
        for (i, clause) in doc.clauses.iter().enumerate() {
            out.push(format!("7.{}. {clause}", i + 1));
        }
    }
    if !doc.annexes.is_empty() {
        out.push(String::new());
        out.push("8. Annexes (part of this contract; each identified by the SHA-256 of its bytes)".into());
        for a in &doc.annexes {
            out.push(format!(
                "Annex {}: {} ({}, {} bytes), SHA-256 {}",
                a.number, a.name, a.media_type, a.size, a.sha256
            ));
        }
    }
    out.push(String::new());
    out.push("Signatures: the organizer signs first, then the artist, within 48 hours of this version.".into());
    out.join("\n") + "\n"
}

pub fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The contract as a PDF: the text, then the hash that identifies it.
pub fn pdf(text: &str, hash_hex: &str) -> Vec<u8> {
    platform::pdf::text(&format!("{text}\nSHA-256 of this version: {hash_hex}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commission::{self, TrustTier};

    fn document() -> Document {
        let starts_at = DateTime::parse_from_rfc3339("2027-03-01T20:00:00Z").unwrap().with_timezone(&Utc);
        let figures = commission::figures(70_000, commission::policy("budding").unwrap(), TrustTier::Standard);
        let terms = Proposal {
            step: 3,
            side: "organizer".into(),
            fee: 70_000,
            currency: "EUR".into(),
            deposit_bps: 3_000,
            starts_at,
            ends_at: starts_at + Duration::hours(2),
            deal_type: "flat".into(),
            door_bps: 0,
            rider: serde_json::json!({"technical": "2 DI boxes", "hospitality": "Käse und Wasser"}),
            message: String::new(),
            created_at: starts_at,
        };
        Document {
            booking_id: uuid::Uuid::nil(),
            version: 1,
            organizer: "Pete Presents".into(),
            artist: "Nova Rae".into(),
            starts_at,
            ends_at: terms.ends_at,
            venue: Some("The Velvet Room, Berlin".into()),
            schedule: schedule(&figures, 3_000, starts_at),
            terms,
            category: "budding".into(),
            figures,
            clauses: vec!["Soundcheck at 17:00.".into()],
            annexes: Vec::new(),
        }
    }

    #[test]
    fn the_schedule_sums_to_what_the_organizer_pays() {
        let doc = document();
        assert_eq!(doc.schedule.iter().map(|m| m.amount).sum::<i64>(), doc.figures.organizer_pays);
        assert_eq!(doc.schedule.iter().map(|m| m.bps).sum::<i64>(), 10_000);
        assert_eq!(doc.schedule[0].amount, 22_050, "30% of 735.00");
        assert_eq!(doc.schedule[1].due, "2027-02-28 20:00 UTC");
    }

    #[test]
    fn the_text_is_stable_and_its_hash_changes_with_any_change() {
        let doc = document();
        let a = text(&doc);
        assert_eq!(a, text(&doc));
        assert!(a.contains("Fee: €700.00 (flat deal)") || a.contains("700.00"), "{a}");
        let mut changed = doc.clone();
        changed.clauses.push("No pyrotechnics.".into());
        assert_ne!(sha256(&a), sha256(&text(&changed)));
    }

    #[test]
    fn annexes_are_named_with_their_hash_and_a_contract_without_them_reads_as_before() {
        let doc = document();
        let before = text(&doc);
        assert!(!before.contains("Annex"), "{before}");
        let old: Document = serde_json::from_value({
            let mut v = serde_json::to_value(&doc).unwrap();
            v.as_object_mut().unwrap().remove("annexes");
            v
        })
        .unwrap();
        assert_eq!(text(&old), before, "a version written before annexes existed reads the same");
        let mut annexed = doc.clone();
        annexed.annexes.push(Annex {
            number: 1,
            name: "stage-plot.pdf".into(),
            media_type: "application/pdf".into(),
            size: 1234,
            sha256: "ab".repeat(32),
        });
        let after = text(&annexed);
        assert!(
            after.contains(&format!(
                "Annex 1: stage-plot.pdf (application/pdf, 1234 bytes), SHA-256 {}",
                "ab".repeat(32)
            ))
        );
        assert_ne!(sha256(&before), sha256(&after));
        annexed.annexes[0].sha256 = "cd".repeat(32);
        assert_ne!(sha256(&after), sha256(&text(&annexed)), "other bytes make another version");
    }

    #[test]
    fn the_pdf_text_can_be_extracted_with_an_independent_reader() {
        let doc = document();
        let body = text(&doc);
        let hash = platform::hex::encode(&sha256(&body));
        let bytes = pdf(&body, &hash);
        let parsed = lopdf::Document::load_mem(&bytes).unwrap();
        let pages: Vec<u32> = parsed.get_pages().keys().copied().collect();
        let extracted = parsed.extract_text(&pages).unwrap();
        assert!(extracted.contains(&hash), "{extracted}");
        assert!(extracted.contains("Nova Rae"));
        assert!(extracted.contains("Käse"), "Latin-1 survives: {extracted}");
        assert!(extracted.contains("Soundcheck at 17:00."));
    }
}
