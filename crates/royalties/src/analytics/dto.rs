//! The area's request and response bodies.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::repo::{EarningRow, PointRow, TopRow};

/// Which of the label's sales to count.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// The first day counted (a report counts on its period's first day).
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub track_id: Option<Uuid>,
    pub release_id: Option<Uuid>,
    /// A store as reports name it (`StreamCo`).
    pub store: Option<String>,
    /// ISO 3166 code (`US`).
    pub territory: Option<String>,
}

/// One day and currency: streams, downloads and the net revenue (after the distribution fee), exact.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Point {
    pub day: NaiveDate,
    pub currency: String,
    pub streams: i64,
    pub downloads: i64,
    pub revenue: String,
}

impl From<PointRow> for Point {
    fn from(r: PointRow) -> Self {
        Self { day: r.day, currency: r.currency, streams: r.streams, downloads: r.downloads, revenue: r.revenue }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TopEntry {
    /// The recording's or release's id, the store's name or the territory's code.
    pub key: String,
    /// The recording's or release's title (the key again for a store or a territory).
    pub title: String,
    pub streams: i64,
    pub downloads: i64,
}

impl From<TopRow> for TopEntry {
    fn from(r: TopRow) -> Self {
        Self { key: r.key, title: r.title, streams: r.streams, downloads: r.downloads }
    }
}

/// A label's sales over time and its top recordings, releases, stores and territories (ten each).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LabelAnalytics {
    pub series: Vec<Point>,
    pub top_tracks: Vec<TopEntry>,
    pub top_releases: Vec<TopEntry>,
    pub top_stores: Vec<TopEntry>,
    pub top_territories: Vec<TopEntry>,
}

/// A payee's month: the usages of their shares and what their statements gave them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EarningPoint {
    pub period: String,
    pub currency: String,
    pub streams: i64,
    pub downloads: i64,
    /// Minor units of `currency`.
    pub earned: i64,
}

impl From<EarningRow> for EarningPoint {
    fn from(r: EarningRow) -> Self {
        Self { period: r.period, currency: r.currency, streams: r.streams, downloads: r.downloads, earned: r.earned }
    }
}

/// An artist's (a payee's) royalties over the months and their top recordings.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MyAnalytics {
    pub series: Vec<EarningPoint>,
    pub top_tracks: Vec<TopEntry>,
}
