//! The royalties' demo data: a store's sales report of last month for Lumen Records (its recordings and
//! one the label does not have, left in the unmatched queue), read through the same steps as an upload;
//! the label's deal, the month's exchange rate, Nova Rae as an accepted payee with a 60/40 split on her
//! releases and an advance of 15.00 EUR, and the month closed into statements posted to the ledger.

use chrono::{Datelike, NaiveDate};
use platform::demo::{Dataset, DemoEnv, LoadFuture};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::model::{PayeeId, PayeeKind, PayeeStatus, RecoupableId, RecoupableKind, ReportStatus};
use crate::reports::repo::{FileRow, ReportRow};
use crate::splits::repo::{PayeeRow, Subject};
use crate::{dsr, reports, splits, statements, terms};

pub fn dataset() -> Dataset {
    Dataset { name: "royalties", version: 1, load }
}

fn found<T>(what: &str, value: Option<T>) -> anyhow::Result<T> {
    value.ok_or_else(|| anyhow::anyhow!("the demo's {what} is missing"))
}

/// A one-file DSR report (Basic Audio Profile 1.3) of `recordings` (ISRC, title, artist) over a
/// subscription summary in the US and an ad-supported one in GB, in USD, with exact totals.
pub fn report(message: &str, first: NaiveDate, last: NaiveDate, recordings: &[(String, String, String)]) -> String {
    let clean = |s: &str| s.replace(['\t', '\r', '\n'], " ");
    let streams = |b: usize, summary: usize| if summary == 1 { 1_200 + 137 * b as i64 } else { 300 + 53 * b as i64 };
    let total = |summary: usize| (1..=recordings.len()).map(|b| streams(b, summary)).sum::<i64>();
    let micro = |m: i64| format!("{}.{:06}", m / 1_000_000, m % 1_000_000);
    let (us, gb) = (total(1), total(2));
    let mut out = format!(
        "HEAD\tdsrf/1.3/1.4.1/1.3\tBasicAudioProfile\t1.3\t{message}\t{last}T06:00:00Z\t1\t1\t{first}\t{last}\t\
         PADPIDA2024000001S\tStreamCo Music Ltd\tStreamCo\tPADPIDA2024000002L\tBackline\t\r\n"
    );
    out.push_str(&format!(
        "SY01.02\t1\tStreamCo\tPADPIDA2024000001S\tSubscriptionModel\t\tUS\tStreamCo Premium\t{us}\t3\tUSD\t{}\t\t\t\r\n",
        micro(us * 4_000)
    ));
    out.push_str(&format!(
        "SY02.03\t2\tStreamCo\tPADPIDA2024000001S\tAdvertisementSupportedModel\t\tGB\tStreamCo Free\t{gb}\t1\tUSD\t\
         {}\tBackline\tDPID::PADPIDA2024000002L\t{gb}\t1.500000\t{}\t\tMusic\t\t\t\r\n",
        micro(gb * 1_800),
        micro(gb * 900)
    ));
    let mut n = 0;
    for (i, (isrc, title, artist)) in recordings.iter().enumerate() {
        let b = i + 1;
        let (title, artist) = (clean(title), clean(artist));
        out.push_str(&format!(
            "RE01.02\t{b}\tR1\tR{b:09}\tLBL::DEMO-{b}\t\t{}\t{artist}\t\t{title}\t\tSingle\tLumen Records\t\
             (P) 2026 Lumen Records\tLumen Records\t{first}\r\n",
            4_012_345_900_000u64 + b as u64 * 10
        ));
        out.push_str(&format!(
            "AS01.02\t{b}\tA1\tT{b}\t{isrc}\t{title}\t\t{artist}\t\tPT3M30S\tSoundRecording\ttrue\tfalse\t\r\n"
        ));
        for summary in 1..=2 {
            n += 1;
            out.push_str(&format!(
                "SU02.02\t{b}\t{summary}\t{n}\t\tA1\ttrue\t{}\t\t\tOnDemandStream\r\n",
                streams(b, summary)
            ));
        }
    }
    let lines = 1 + 2 + recordings.len() * 4 + 1;
    out.push_str(&format!("FOOT\t{lines}\t{lines}\t2\t{0}\t{0}\r\n", recordings.len()));
    out
}

fn load<'c>(conn: &'c mut PgConnection, env: &'c DemoEnv) -> LoadFuture<'c> {
    Box::pin(async move {
        let now = env.now;
        let api = |e: platform::ApiError| anyhow::anyhow!("{}", e.detail().to_owned());
        let lumen = found("label lumen-records", identity::service::org_id_by_slug(conn, "lumen-records").await?)?;
        let jazz = found("sub-label lumen-jazz", identity::service::org_id_by_slug(conn, "lumen-jazz").await?)?;
        let owner = found("user lumen_records", identity::service::user_id_by_username(conn, "lumen_records").await?)?;
        let admin = found("user admin", identity::service::user_id_by_username(conn, "admin").await?)?;
        let nova = found("user nova", identity::service::user_id_by_username(conn, "nova").await?)?;
        let last = now.date_naive().with_day(1).and_then(|d| d.pred_opt()).ok_or_else(|| anyhow::anyhow!("date"))?;
        let first = last.with_day(1).ok_or_else(|| anyhow::anyhow!("date"))?;
        let period = first.format("%Y-%m").to_string();

        // The label's deal (12%) and the month's rate, before the report is read.
        terms::repo::set_deal(conn, lumen, NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or(first), 1_200, admin, now)
            .await?;
        terms::repo::upsert_rates(conn, &[last], &["USD".into()], &["EUR".into()], &["0.9231".into()], admin, now)
            .await?;

        // The report: the label's recordings and one it does not have.
        let catalog = catalog::recordings_of(conn, &[lumen, jazz]).await?;
        let mut recordings: Vec<(String, String, String)> =
            catalog.iter().map(|(isrc, title, artist, _)| (isrc.clone(), title.clone(), artist.clone())).collect();
        recordings.push(("QZDEM2600001".into(), "Unknown Cover".into(), "Someone Else".into()));
        let text = report(&format!("DEMO-{period}"), first, last, &recordings);
        let head = dsr::read_head(text.lines().next().unwrap_or_default())
            .map_err(|e| anyhow::anyhow!("the demo report's HEAD: {e:?}"))?;
        let row = ReportRow { status: ReportStatus::Reading, ..ReportRow::received(&head, lumen, owner, now) };
        reports::repo::insert(conn, &row).await?;
        let kept = env.storage.put_bytes(text.clone().into_bytes()).await?;
        platform::storage::record(conn, &kept, "text/tab-separated-values", now).await?;
        let file = FileRow {
            file_number: 1,
            sha256: kept.sha256.clone(),
            size: kept.size as i64,
            gzip: false,
            file_name: Some(format!("StreamCo_DSR_{period}.tsv")),
        };
        reports::repo::add_file(conn, row.id, &file).await?;
        let mut rows = Vec::new();
        let mut encoder = reports::load::Encoder::new(row.id.0, &mut rows);
        let mut allocation = crate::allocation::Allocation::default();
        let (summary, errors, count) = dsr::Reader::new().read(text.as_bytes(), &mut allocation, |u| {
            encoder.add(&mut rows, u);
        })?;
        encoder.finish(&mut rows);
        let problems = dsr::check_report(std::slice::from_ref(&summary));
        anyhow::ensure!(
            errors.is_empty() && count == 0 && problems.is_empty() && summary.repeated_transactions.is_empty(),
            "the demo report: {errors:?} {problems:?}"
        );
        let mut copy = reports::repo::copy_totals(conn).await?;
        copy.send(rows).await?;
        copy.finish().await?;
        reports::repo::start(conn, row.id, summary.lines as i64, now).await?;
        reports::service::finish(conn, &row, &summary.summaries, summary.usage_lines, encoder.sums(), None, now)
            .await?;

        // Nova Rae, paid in EUR: 60% of her releases, the label 40%; an advance of 15.00 EUR.
        let label = splits::service::label_payee(conn, lumen, now).await?;
        let payee = PayeeRow {
            id: PayeeId::new(),
            org_id: lumen,
            kind: PayeeKind::Person,
            name: "Nova Rae".into(),
            email: Some("nova@demo.backline.test".into()),
            user_id: None,
            currency: "EUR".into(),
            status: PayeeStatus::Invited,
            invited_at: Some(now),
            expires_at: Some(now + splits::service::INVITATION_TTL),
            accepted_at: None,
            created_at: now,
        };
        let (_, hash) = identity::tokens::generate(identity::tokens::Kind::Email);
        splits::repo::invite(conn, &payee, &hash).await?;
        splits::repo::accept_invitation(conn, payee.id, nova, now).await?;
        let mut releases: Vec<Uuid> = catalog
            .iter()
            .filter(|(_, _, artist, _)| artist == "Nova Rae")
            .filter_map(|(_, _, _, release)| release.map(|r| r.0))
            .collect();
        releases.dedup();
        for release in &releases {
            splits::repo::put_split(
                conn,
                lumen,
                Subject::Release(*release),
                first,
                "artist agreement",
                &[payee.id.0, label.0],
                &[6_000, 4_000],
                Some(owner),
                now,
            )
            .await?;
        }
        if let Some(release) = releases.first() {
            splits::repo::add_recoupable(
                conn,
                RecoupableId::new(),
                lumen,
                payee.id,
                *release,
                RecoupableKind::Advance,
                1_500,
                "EUR",
                "video shoot",
                owner,
                now,
            )
            .await?;
        }
        statements::service::close_month(conn, lumen, &period, owner, now).await.map_err(api)?;
        Ok(())
    })
}
