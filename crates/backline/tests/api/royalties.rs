//! Royalties through the HTTP API: sales reports uploaded (plain, gzip, in several files), read by the
//! job into summaries and usage lines, refused whole with their errors, recognised when sent twice, and
//! replaced by an explicit correction.

use axum::http::StatusCode;
use chrono::Datelike;
use serde_json::{Value, json};
use testkit::TestApp;

use crate::catalog::{Label, label};
use crate::support::{app, drain_jobs, signed_in};

/// A valid DSR report: see `testkit::dsr`.
pub(crate) fn dsr(message: &str, files: usize, blocks: usize, per: usize) -> Vec<Vec<u8>> {
    testkit::dsr::files(message, files, blocks as u64, per as u64)
}

pub(crate) async fn upload(app: &TestApp, l: &Label, query: &str, bytes: &[u8]) -> testkit::TestResponse {
    app.post(&format!("/v1/royalties/reports?label_id={}{query}", l.id))
        .bearer(&l.token)
        .header("content-type", "text/tab-separated-values")
        .body(bytes.to_vec())
        .send()
        .await
}

/// Sends a report and lets the job read it: its id and what it then is.
async fn sent_and_read(app: &TestApp, l: &Label, bytes: &[u8]) -> (String, Value) {
    let res = upload(app, l, "", bytes).await;
    res.assert_status(StatusCode::ACCEPTED);
    let rid = id(&res.value());
    drain_jobs(app).await;
    let r = report(app, l, &rid).await;
    (rid, r)
}

async fn report(app: &TestApp, l: &Label, id: &str) -> Value {
    let res = app.get(&format!("/v1/royalties/reports/{id}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

/// How many usage lines the report's stored totals hold.
async fn usage_rows(app: &TestApp, id: &str) -> i64 {
    let id: uuid::Uuid = id.parse().unwrap();
    sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(lines), 0)::bigint AS "n!" FROM royalty_usage_totals WHERE report_id = $1"#,
        id
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

pub(crate) fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Amounts for sample lines: edges and a sweep of pseudo-random ones, positive and negative.
fn sample_amounts() -> Vec<i128> {
    let mut amounts: Vec<i128> =
        vec![0, 1, -1, 99, 100, 9_999_999_999, 10_000_000_000, -10_000_000_001, i64::MAX as i128];
    amounts.push(123_456_789_012_345_678_901_234_567_890);
    amounts.push(-98_765_432_109_876_543_210_987);
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for _ in 0..300 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let magnitude = (x >> (x % 60)) as i128 * if x.is_multiple_of(3) { 1_000_000 } else { 1 };
        amounts.push(if x.is_multiple_of(2) { magnitude } else { -magnitude });
    }
    amounts
}

/// Sample line `n` of three summaries: even lines name one of eight recordings; odd ones only the
/// store's own id, each its own, except every tenth, which names nothing at all. A group's lines name
/// one title: its recording's, or (for lines naming nothing) one for all.
fn sample_usage(n: usize, revenue: i128) -> royalties::dsr::Usage {
    royalties::dsr::Usage {
        line: n as u64 + 1,
        record_type: "SU02.02".into(),
        block_id: format!("{}", n / 4),
        summary_id: format!("{}", n % 3),
        transaction_id: format!("T{n}"),
        isrc: n.is_multiple_of(2).then(|| format!("DEA12{:07}", n % 8)),
        icpn: None,
        dsp_id: None,
        proprietary_ids: if n.is_multiple_of(2) || n.is_multiple_of(5) {
            vec![]
        } else {
            vec![format!("LBL::A\"{n}"), "ns::{x,y}".into()]
        },
        title: match (n.is_multiple_of(2), n.is_multiple_of(5)) {
            (true, _) => format!("Tab\there {} — Zoë", n % 8),
            (false, false) => format!("Own id {n}"),
            (false, true) => "Nothing named".into(),
        },
        artist: "Nova".into(),
        royalty_bearing: true,
        usages: n as i64 * 1_000_000_007,
        use_type: if n.is_multiple_of(7) { "Download" } else { "OnDemandStream" }.into(),
        revenue,
    }
}

/// The binary `COPY` the job writes: each summary, key and use type's lines summed, every cell as
/// read, the revenue exact to its tenth decimal place (edges and a sweep of pseudo-random amounts,
/// positive and negative), however often the groups in memory are written and begun again.
#[tokio::test]
async fn usage_totals_reach_the_database_exactly_as_read() {
    use royalties::reports::{load::Encoder, repo};
    let app = app().await;
    let amounts = sample_amounts();
    let usage = sample_usage;
    // What each group must hold, summed here apart from the encoder.
    let mut expected = std::collections::BTreeMap::new();
    for (n, revenue) in amounts.iter().enumerate() {
        let u = usage(n, *revenue);
        let group = expected.entry((u.summary_id.clone(), u.match_key(), u.use_type.clone())).or_insert((
            u.title.clone(),
            0i64,
            0i64,
            0i128,
        ));
        group.1 += 1;
        group.2 += u.usages;
        group.3 += u.revenue;
    }
    assert!(expected.len() > 100 && expected.len() < amounts.len(), "lines share groups and groups are many");
    for limit in [1, 7, 1_000] {
        let report = uuid::Uuid::now_v7();
        let mut rows = Vec::new();
        let mut encoder = Encoder::with_limit(report, limit, &mut rows);
        for (n, revenue) in amounts.iter().enumerate() {
            encoder.add(&mut rows, &usage(n, *revenue));
        }
        encoder.finish(&mut rows);
        let mut conn = app.db.pool.acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let mut copy = repo::copy_totals(&mut tx).await.unwrap();
        copy.send(rows).await.unwrap();
        let written = copy.finish().await.unwrap();
        assert!(written as usize >= expected.len(), "limit {limit}: at least a row a group");
        assert_eq!(written as usize == expected.len(), limit == 1_000, "limit {limit}: begun again below it");
        let stored = sqlx::query!(
            r#"SELECT summary_id, match_key, use_type, min(title) AS title, min(artist) AS artist,
                      sum(lines)::bigint AS "lines!", sum(usages)::bigint AS "usages!", sum(revenue)::text AS "revenue!"
               FROM royalty_usage_totals WHERE report_id = $1
               GROUP BY summary_id, match_key, use_type ORDER BY summary_id, match_key NULLS FIRST, use_type"#,
            report
        )
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.rollback().await.unwrap();
        assert_eq!(stored.len(), expected.len(), "limit {limit}");
        for (row, ((summary, key, use_type), (title, lines, usages, revenue))) in stored.iter().zip(&expected) {
            assert_eq!((&row.summary_id, &row.match_key, &row.use_type), (summary, key, use_type));
            assert_eq!((row.lines, row.usages), (*lines, *usages), "limit {limit}: {key:?}");
            assert_eq!(row.revenue, royalties::allocation::text(*revenue), "limit {limit}: {key:?}");
            assert_eq!((row.title.as_deref(), row.artist.as_deref()), (Some(title.as_str()), Some("Nova")));
        }
    }
}

/// A report's royalty lines, each row whole as text, in order.
async fn royalty_line_rows(conn: &mut sqlx::PgConnection, report: uuid::Uuid) -> Vec<String> {
    sqlx::query_scalar!(r#"SELECT l::text AS "row!" FROM royalty_lines l WHERE report_id = $1 ORDER BY n"#, report)
        .fetch_all(conn)
        .await
        .unwrap()
}

/// The royalty lines a report's reading makes from its sums in memory are, cell for cell, the rows
/// `build_lines` makes from the stored totals (which staff matching runs): lines merged across the
/// summaries of one territory, model and currency; a line's use type its own or else its summary's;
/// its title the least in byte order (`Tab…` before `Ä…`, which a language's order would put first);
/// matched keys only; fees to fourteen places; however often the groups were written and begun again.
#[tokio::test]
async fn royalty_lines_made_in_memory_are_those_made_from_the_stored_rows() {
    use royalties::reports::{load, repo};
    let app = app().await;
    let l = label(&app, "summed-records", "DES12").await;
    // A report's row, left queued: its summaries, totals and matches are written here by hand, in
    // transactions that are undone.
    let res = upload(&app, &l, "", &dsr("DSR-SUMS", 1, 1, 1).remove(0)).await;
    res.assert_status(StatusCode::ACCEPTED);
    let report: uuid::Uuid = id(&res.value()).parse().unwrap();
    let summary = |id: &str, territory: &str, model: &str, use_type: &str| royalties::dsr::Summary {
        id: id.into(),
        record_type: "SY02.02".into(),
        channel: "Internet".into(),
        commercial_model: model.into(),
        use_type: use_type.into(),
        territory: territory.into(),
        service: "Premium".into(),
        total_usages: 1,
        currency: "EUR".into(),
        net_revenue: "1".into(),
    };
    let summaries = [
        summary("0", "DE", "SubscriptionModel", "OnDemandStream"),
        summary("1", "DE", "SubscriptionModel", "Stream"),
        summary("2", "AT", "AdvertisementSupportedModel", "OnDemandStream"),
    ];
    let rows = repo::SummaryRows::from(&summaries[..]);
    let usages: Vec<royalties::dsr::Usage> = sample_amounts()
        .into_iter()
        .enumerate()
        .map(|(n, revenue)| {
            let mut u = sample_usage(n, revenue);
            if n.is_multiple_of(11) {
                u.use_type.clear();
            }
            if u.summary_id == "1" && u.isrc.is_some() {
                u.title = format!("Ä {}", u.title);
            }
            u
        })
        .collect();
    // Seven of the eight recordings matched (the last waits unmatched), and two of the store's ids
    // to a release sold whole.
    let release = uuid::Uuid::now_v7();
    let mut found: Vec<(String, Option<uuid::Uuid>, Option<uuid::Uuid>)> =
        (0..7).map(|n| (format!("isrc:DEA12{n:07}"), Some(uuid::Uuid::now_v7()), Some(release))).collect();
    found.push(("prop:LBL::A\"1".into(), None, Some(release)));
    found.push(("prop:LBL::A\"3".into(), None, Some(release)));
    let matches: std::collections::HashMap<&str, load::Match> =
        found.iter().map(|(key, track, release)| (key.as_str(), (*track, *release))).collect();
    let at = chrono::Utc::now();
    for limit in [1, 7, 1_000] {
        let mut stream = Vec::new();
        let mut encoder = load::Encoder::with_limit(report, limit, &mut stream);
        for u in &usages {
            encoder.add(&mut stream, u);
        }
        encoder.finish(&mut stream);
        let groups = encoder.sums().groups.expect("a few hundred groups are summed in memory");
        let (lines, made) = groups.lines(report, &summaries, &matches, 1_234);
        let mut conn = app.db.pool.acquire().await.unwrap();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
        let report_id = royalties::model::ReportId(report);
        repo::insert_summaries(&mut tx, report_id, &rows).await.unwrap();
        let mut copy = repo::copy_totals(&mut tx).await.unwrap();
        copy.send(stream).await.unwrap();
        copy.finish().await.unwrap();
        let mut copy = repo::copy_matches(&mut tx).await.unwrap();
        copy.send(load::matches(report, &found, at)).await.unwrap();
        copy.finish().await.unwrap();
        let mut copy = repo::copy_lines(&mut tx).await.unwrap();
        copy.send(lines).await.unwrap();
        assert_eq!(copy.finish().await.unwrap(), made, "limit {limit}");
        let in_memory = royalty_line_rows(&mut tx, report).await;
        let rebuilt = repo::build_lines(&mut tx, report_id, 1_234).await.unwrap();
        let from_rows = royalty_line_rows(&mut tx, report).await;
        tx.rollback().await.unwrap();
        assert_eq!(rebuilt, made, "limit {limit}");
        assert_eq!(in_memory, from_rows, "limit {limit}");
        // What the sample is there to try is in it.
        let all = in_memory.join("\n");
        assert!(made > 20, "limit {limit}: {made} lines");
        assert!(all.contains(",Stream,EUR,") && all.contains(",OnDemandStream,EUR,"), "{all}");
        let merged = in_memory.iter().filter(|r| r.contains(",DE,SubscriptionModel,OnDemandStream,"));
        assert!(merged.clone().any(|r| r.contains("Tab\there 2")), "{all}");
        assert!(merged.clone().all(|r| !r.contains("Ä Tab")), "the least title in byte order: {all}");
        assert!(in_memory.iter().any(|r| r.contains("Ä Tab") && r.contains(",DE,SubscriptionModel,Stream,")), "{all}");
        assert!(!all.contains("isrc:DEA120000007") && !all.contains("Nothing named"), "unmatched keys have none");
        assert!(all.contains(",1234,"), "the fee's basis points: {all}");
    }
}

#[tokio::test]
async fn a_report_is_read_whole_and_recognised_when_sent_again() {
    let app = app().await;
    let l = label(&app, "royal-records", "DER12").await;
    let file = dsr("DSR-ONE", 1, 3, 20).remove(0);
    let res = upload(&app, &l, "&filename=DSR_one.tsv", &file).await;
    res.assert_status(StatusCode::ACCEPTED);
    let r = res.value();
    assert_eq!(r["status"], "queued");
    assert_eq!((r["message_id"].as_str(), r["number_of_files"].as_i64()), (Some("DSR-ONE"), Some(1)));
    assert_eq!(r["progress"]["phase"], "waiting");
    drain_jobs(&app).await;
    let r = report(&app, &l, &id(&r)).await;
    assert_eq!(r["status"], "loaded", "{r}");
    assert_eq!((r["usage_lines"].as_i64(), r["summary_records"].as_i64()), (Some(120), Some(2)));
    assert_eq!(r["progress"]["percent"], 100);
    assert_eq!(r["progress"]["lines_done"], r["progress"]["lines_total"]);
    assert_eq!(
        r["progress"]["lines_total"],
        1 + 1 + 2 + 3 * 3 + 120 + 1,
        "HEAD, a heading row, summaries, blocks, FOOT"
    );
    assert_eq!(usage_rows(&app, &id(&r)).await, 120);
    let notes = app.get("/v1/me/notifications").bearer(&l.token).send().await.value();
    assert!(notes.to_string().contains("Sales report DSR-ONE is read"), "the sender is told: {notes}");
    let report_id: uuid::Uuid = id(&r).parse().unwrap();
    let revenue: String = sqlx::query_scalar!(
        r#"SELECT net_revenue::text AS "revenue!" FROM royalty_summaries WHERE report_id = $1 AND summary_id = '2'"#,
        report_id
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(revenue, "1.250000", "the licensor's allocated net revenue, exact");

    // The same report again (plain or gzip): a duplicate.
    let again = upload(&app, &l, "", &file).await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.value()["code"], "duplicate_report");
    let list = app.get(&format!("/v1/labels/{}/royalty-reports", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);

    // An explicit correction replaces it once read.
    let corrected = upload(&app, &l, &format!("&replaces={}", id(&r)), &gzip(&file)).await;
    corrected.assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    let new = report(&app, &l, &id(&corrected.value())).await;
    assert_eq!(new["status"], "loaded");
    assert_eq!(new["replaces"], r["id"]);
    assert_eq!(report(&app, &l, &id(&r)).await["replaced_by"], new["id"]);

    // Another label, or someone with no label, sees nothing of it.
    let other = label(&app, "other-royal-records", "DEQ12").await;
    app.get(&format!("/v1/royalties/reports/{}", id(&r)))
        .bearer(&other.token)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let (stranger, _, _) = signed_in(&app, "royal_stranger").await;
    app.post(&format!("/v1/royalties/reports?label_id={}", l.id))
        .bearer(&stranger)
        .body(file.clone())
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn a_report_in_several_files_waits_for_all_of_them() {
    let app = app().await;
    let l = label(&app, "split-records", "DES13").await;
    let files = dsr("DSR-SPLIT", 3, 6, 5);
    let first = upload(&app, &l, "", &gzip(&files[1])).await;
    first.assert_status(StatusCode::ACCEPTED);
    let r = first.value();
    assert_eq!((r["status"].as_str(), r["files_received"].as_i64()), (Some("receiving"), Some(1)));
    let rid = id(&r);
    let add = |bytes: Vec<u8>| {
        let app = &app;
        let token = l.token.clone();
        let rid = rid.clone();
        async move { app.post(&format!("/v1/royalties/reports/{rid}/files")).bearer(&token).body(bytes).send().await }
    };
    // A file of another report, or one received already, is refused.
    let stray = add(dsr("DSR-OTHER", 3, 6, 5).remove(0)).await;
    stray.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(stray.value()["code"], "not_a_report");
    let twice = add(files[1].clone()).await;
    twice.assert_status(StatusCode::CONFLICT);
    add(files[0].clone()).await.assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    assert_eq!(report(&app, &l, &rid).await["status"], "receiving", "nothing is read before the last file");
    let last = add(files[2].clone()).await;
    last.assert_status(StatusCode::ACCEPTED);
    assert_eq!(last.value()["status"], "queued");
    add(files[2].clone()).await.assert_status(StatusCode::CONFLICT);
    drain_jobs(&app).await;
    let r = report(&app, &l, &rid).await;
    assert_eq!(r["status"], "loaded", "{r}");
    assert_eq!(r["usage_lines"], 6 * 2 * 5);
    assert_eq!(usage_rows(&app, &rid).await, 60);
}

/// A report of more than a few megabytes is read in two parts at once, one on each core: it reads as a
/// small one does, its money exact to the unit, its royalty lines those its stored rows make; one with
/// a problem deep in its second part is read again whole, and refused with the problem on its line.
#[tokio::test]
async fn a_large_report_is_read_in_two_parts_and_refused_whole_for_a_problem_in_either() {
    let app = app().await;
    let l = label(&app, "large-records", "DEL12").await;
    // Recordings of the first block and of one far into the second part.
    with_isrc(&app, &l, "DE-A12-00-00011").await;
    with_isrc(&app, &l, "DE-A12-00-05902").await;
    let file = dsr("DSR-LARGE", 1, 600, 100).remove(0);
    assert!(file.len() as u64 >= royalties::reports::service::SPLIT_FROM * 5 / 4, "{} bytes", file.len());
    let (rid, r) = sent_and_read(&app, &l, &file).await;
    assert_eq!(r["status"], "loaded", "{r}");
    assert_eq!(r["usage_lines"], 600 * 2 * 100);
    assert_eq!(r["progress"]["lines_done"], r["progress"]["lines_total"]);
    assert_eq!(usage_rows(&app, &rid).await, 120_000);
    let proof = app.get(&format!("/v1/royalties/reports/{rid}/reconciliation")).bearer(&l.token).send().await.value();
    assert_eq!(proof["exact"], true, "{proof}");
    // Two recordings in two territories.
    assert_eq!(lines_as_the_rows_make_them(&app, &rid).await, 4);

    // The same report, its stream count wrong on a line of the last block but one: refused with that
    // line's problem (and its summary's usages, short of its total), and nothing of it kept.
    let text = String::from_utf8(file).unwrap().replace("DSR-LARGE", "DSR-LARGE-2");
    let mut lines: Vec<&str> = text.split_terminator("\r\n").collect();
    let at = lines.len() - 300;
    assert!(lines[at].starts_with("SU02.02"), "{}", lines[at]);
    let wrong = lines[at].replacen("\ttrue\t", "\ttrue\tx", 1);
    lines[at] = &wrong;
    let bad: String = lines.iter().map(|l| format!("{l}\r\n")).collect();
    let (rid, r) = sent_and_read(&app, &l, bad.as_bytes()).await;
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["error_count"], 2, "{r}");
    let errors = r["errors"].as_array().unwrap();
    assert!(errors[1]["reason"].as_str().unwrap().contains("its lines add up to"), "{r}");
    assert_eq!(
        (errors[0]["line"].as_u64(), errors[0]["cell"].as_str()),
        (Some(at as u64 + 1), Some("NumberOfStreams"))
    );
    assert_eq!(usage_rows(&app, &rid).await, 0);
}

/// A report of several files, one large enough to be read in two parts and one not (a gzip file is
/// read whole), in either order: its keys are matched as its parts end and once all are read, each
/// once, and it reads as a small one does.
#[tokio::test]
async fn a_report_of_a_large_file_and_a_gzip_one_is_matched_whole_in_either_order() {
    let app = app().await;
    let l = label(&app, "mixed-records", "DEM12").await;
    // A recording in each part of each file: blocks 1 and 500 in the first file (cut near block 360),
    // 700 and 1150 in the second.
    for isrc in ["DE-A12-00-00011", "DE-A12-00-05002", "DE-A12-00-07001", "DE-A12-00-11502"] {
        with_isrc(&app, &l, isrc).await;
    }
    for (message, gzipped) in [("DSR-MIXED-1", 1), ("DSR-MIXED-2", 0)] {
        let mut files = dsr(message, 2, 1200, 100);
        assert!(files[1 - gzipped].len() as u64 >= royalties::reports::service::SPLIT_FROM * 5 / 4);
        files[gzipped] = gzip(&files[gzipped]);
        let first = upload(&app, &l, "", &files[0]).await;
        first.assert_status(StatusCode::ACCEPTED);
        let rid = id(&first.value());
        let rest = app.post(&format!("/v1/royalties/reports/{rid}/files")).bearer(&l.token).body(files[1].clone());
        rest.send().await.assert_status(StatusCode::ACCEPTED);
        drain_jobs(&app).await;
        let r = report(&app, &l, &rid).await;
        assert_eq!(r["status"], "loaded", "{message}: {r}");
        assert_eq!(r["usage_lines"], 1200 * 2 * 100);
        assert_eq!(usage_rows(&app, &rid).await, 240_000);
        let proof =
            app.get(&format!("/v1/royalties/reports/{rid}/reconciliation")).bearer(&l.token).send().await.value();
        assert_eq!(proof["exact"], true, "{proof}");
        let report_id: uuid::Uuid = rid.parse().unwrap();
        let mut conn = app.db.pool.acquire().await.unwrap();
        let matched: i64 = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM royalty_matches WHERE report_id = $1 AND matched_by = 'identifier'"#,
            report_id
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap();
        assert_eq!(matched, 4, "{message}: each recording matched once");
        // Four recordings in two territories.
        assert_eq!(lines_as_the_rows_make_them(&app, &rid).await, 8);
    }
}

/// How many royalty lines the report has, once they are held to those its stored rows make
/// (`build_lines`, in a transaction rolled back), cell for cell.
async fn lines_as_the_rows_make_them(app: &TestApp, rid: &str) -> usize {
    let report_id: uuid::Uuid = rid.parse().unwrap();
    let mut conn = app.db.pool.acquire().await.unwrap();
    let mut tx = sqlx::Connection::begin(&mut *conn).await.unwrap();
    let in_memory = royalty_line_rows(&mut tx, report_id).await;
    let fee = royalties::terms::service::DEFAULT_FEE_BP;
    royalties::reports::repo::build_lines(&mut tx, royalties::model::ReportId(report_id), fee).await.unwrap();
    assert_eq!(in_memory, royalty_line_rows(&mut tx, report_id).await);
    tx.rollback().await.unwrap();
    in_memory.len()
}

#[tokio::test]
async fn a_malformed_report_is_refused_whole_with_its_errors() {
    let app = app().await;
    let l = label(&app, "broken-records", "DEB13").await;
    // Not a report at all: refused on upload, nothing kept.
    let res = upload(&app, &l, "", b"title,artist\nSong,Nova\n").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["code"], "not_a_report");

    // A report whose lines are wrong deep inside: read, then refused whole with every error located.
    let good = String::from_utf8(dsr("DSR-BAD", 1, 4, 30).remove(0)).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    let at = lines.iter().position(|l| l.starts_with("SU02.02")).unwrap() + 50;
    lines[at] = lines[at].replacen("\ttrue\t", "\tmaybe\t", 1);
    lines[at + 1] = lines[at + 1].replacen("\tA1\t", "\tA9\t", 1).replacen("\tA2\t", "\tA9\t", 1);
    let bad = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let (rid, r) = sent_and_read(&app, &l, bad.as_bytes()).await;
    assert_eq!(r["status"], "refused", "{r}");
    let errors = r["errors"].as_array().unwrap();
    assert_eq!(errors[0]["line"], at as u64 + 1);
    assert_eq!(errors[0]["cell"], "IsRoyaltyBearing");
    assert_eq!(errors[1]["line"], at as u64 + 2);
    assert_eq!(errors[1]["record_type"], "SU02.02");
    assert_eq!(errors[1]["cell"], "TransactedResource");
    assert!(r["error_count"].as_i64().unwrap() >= 2);
    assert_eq!(usage_rows(&app, &rid).await, 0, "nothing of a refused report is kept");
    let report_id: uuid::Uuid = rid.parse().unwrap();
    let summaries: i64 =
        sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM royalty_summaries WHERE report_id = $1"#, report_id)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    assert_eq!(summaries, 0);
    let notes = app.get("/v1/me/notifications").bearer(&l.token).send().await.value();
    assert!(notes.to_string().contains("Sales report DSR-BAD was refused"), "the sender is told: {notes}");
    // A refused report does not count as received: the corrected file is taken.
    let fixed = upload(&app, &l, "", good.as_bytes()).await;
    fixed.assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    assert_eq!(report(&app, &l, &id(&fixed.value())).await["status"], "loaded");
}

/// A sales transaction id used twice is found from its fingerprint and named on the line that repeats
/// it, with the line it repeats, in a gzip file too (which is read a second time for it).
#[tokio::test]
async fn a_repeated_transaction_id_is_named_on_its_line() {
    let app = app().await;
    let l = label(&app, "twice-records", "DET13").await;
    let good = String::from_utf8(dsr("DSR-TWICE", 1, 4, 30).remove(0)).unwrap();
    let mut lines: Vec<String> = good.lines().map(str::to_owned).collect();
    let first = lines.iter().position(|l| l.starts_with("SU02.02")).unwrap();
    let id_of = |line: &str| line.split('\t').nth(3).unwrap().to_owned();
    let again = first + 70;
    let mut cells: Vec<String> = lines[again].split('\t').map(str::to_owned).collect();
    cells[3] = id_of(&lines[first]);
    lines[again] = cells.join("\t");
    let bad = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let res = upload(&app, &l, "", &gzip(bad.as_bytes())).await;
    res.assert_status(StatusCode::ACCEPTED);
    let rid = id(&res.value());
    drain_jobs(&app).await;
    let r = report(&app, &l, &rid).await;
    assert_eq!(r["status"], "refused", "{r}");
    assert_eq!(r["error_count"], 1, "{r}");
    let e = &r["errors"][0];
    assert_eq!((e["line"].as_u64(), e["record_type"].as_str()), (Some(again as u64 + 1), Some("SU02.02")));
    assert_eq!(e["cell"], "SalesTransactionId");
    assert_eq!(e["reason"], format!("is used twice (first on line {})", first + 1));
    assert_eq!(usage_rows(&app, &rid).await, 0);
}

/// Uploads are limited per account and per client address (20 an hour by default), before the body is
/// read, exactly even when they arrive at once: the 21st is refused with 429 and `Retry-After`, an upload refused for its content counts, and
/// an hour later uploads are taken again.
#[tokio::test]
async fn uploads_are_limited_per_account_and_per_client_address() {
    let app = std::sync::Arc::new(app().await);
    let l = label(&app, "busy-records", "DEU13").await;
    let send = |token: String, label: String, ip: &'static str| {
        let app = &app;
        async move {
            app.post(&format!("/v1/royalties/reports?label_id={label}"))
                .bearer(&token)
                .ip(ip)
                .body(b"not a report".to_vec())
                .send()
                .await
        }
    };
    // Thirty at once from one account and address: exactly twenty are admitted (then refused for their
    // content), ten are limited.
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let (app, token, label) = (app.clone(), l.token.clone(), l.id.clone());
            tokio::spawn(async move {
                let path = format!("/v1/royalties/reports?label_id={label}");
                app.post(&path).bearer(&token).ip("10.0.0.1").body(b"not a report".to_vec()).send().await.status
            })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    let admitted = answers.iter().filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY).count();
    let limited = answers.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((admitted, limited), (20, 10), "{answers:?}");
    let refused = send(l.token.clone(), l.id.clone(), "10.0.0.2").await;
    refused.assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let wait: i64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!((3000..=3600).contains(&wait), "{wait}");
    // Another account (of another label) from the same address is refused too; from another, it is not.
    let other = label(&app, "calm-records", "DEV13").await;
    send(other.token.clone(), other.id.clone(), "10.0.0.1")
        .await
        .assert_problem(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    send(other.token.clone(), other.id.clone(), "10.0.0.3").await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.clock.advance(chrono::Duration::minutes(61));
    let again = crate::support::login(&app, &l.user, crate::support::PASSWORD).await.value();
    let token = again["access_token"].as_str().unwrap().to_owned();
    send(token, l.id.clone(), "10.0.0.1").await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
}

/// The same report sent by many clients at once is taken once: the others are told it is a duplicate.
#[tokio::test]
async fn a_report_sent_many_times_at_once_is_taken_once() {
    let app = std::sync::Arc::new(app().await);
    let mut l = std::sync::Arc::new(label(&app, "race-records", "DEC13").await);
    for round in 0..3 {
        if round > 0 {
            // An account may start 20 uploads an hour: each round in an hour of its own (signed in again).
            app.clock.advance(chrono::Duration::minutes(61));
            let again = crate::support::login(&app, &l.user, crate::support::PASSWORD).await.value();
            let token = again["access_token"].as_str().unwrap().to_owned();
            l = std::sync::Arc::new(Label { token, id: l.id.clone(), artist: l.artist.clone(), user: l.user.clone() });
        }
        let file = dsr(&format!("DSR-RACE-{round}"), 1, 2, 10).remove(0);
        let mut tasks = Vec::new();
        for i in 0..12 {
            let bytes = if i % 2 == 0 { file.clone() } else { gzip(&file) };
            let (app, l) = (app.clone(), l.clone());
            tasks.push(tokio::spawn(async move { upload(&app, &l, "", &bytes).await.status }));
        }
        let mut answers = Vec::new();
        for t in tasks {
            answers.push(t.await.unwrap());
        }
        let taken = answers.iter().filter(|s| **s == StatusCode::ACCEPTED).count();
        let duplicates = answers.iter().filter(|s| **s == StatusCode::CONFLICT).count();
        assert_eq!((taken, duplicates), (1, 11), "round {round}: {answers:?}");
    }
    drain_jobs(&app).await;
    let list = app.get(&format!("/v1/labels/{}/royalty-reports", l.id)).bearer(&l.token).send().await.value();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(items.iter().all(|r| r["status"] == "loaded" && r["usage_lines"] == 40), "{list}");
}

/// A release of the label with one track of this ISRC; answers the track's id.
pub(crate) async fn with_isrc(app: &TestApp, l: &Label, isrc: &str) -> String {
    let r = crate::catalog::release(app, l, "Matched").await;
    let res = app
        .post(&format!("/v1/releases/{}/tracks", id(&r)))
        .bearer(&l.token)
        .json(&serde_json::json!({"title": "Song", "isrc": isrc}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()["track"]["id"].as_str().unwrap().to_owned()
}

/// Lines are matched to the label's recordings by ISRC when the report is read; the rest wait in the
/// unmatched queue until staff match them; the reconciliation holds to the last unit throughout.
#[tokio::test]
async fn lines_are_matched_and_the_money_reconciles_to_the_last_unit() {
    let app = app().await;
    crate::support::signed_in_admin(&app).await;
    let admin = crate::support::login(&app, "root_admin", crate::support::PASSWORD).await.value()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let l = label(&app, "match-records", "DEM13").await;
    let other = label(&app, "elsewhere-records", "DEN13").await;
    with_isrc(&app, &l, "DE-A12-00-00011").await;
    let later = with_isrc(&app, &l, "DE-A12-00-00099").await;
    // Another label's recording with a reported ISRC is not this label's money.
    with_isrc(&app, &other, "DE-A12-00-00021").await;

    let file = dsr("DSR-MATCH", 1, 3, 7).remove(0);
    let rid = id(&upload(&app, &l, "", &file).await.value());
    drain_jobs(&app).await;
    assert_eq!(report(&app, &l, &rid).await["status"], "loaded");
    let proof = app.get(&format!("/v1/royalties/reports/{rid}/reconciliation")).bearer(&l.token).send().await.value();
    assert_eq!(proof["exact"], true, "{proof}");
    let summaries = proof["summaries"].as_array().unwrap();
    assert_eq!(summaries.len(), 2);
    assert_eq!(summaries[0]["revenue"], "12.345678");
    assert_eq!(summaries[0]["allocated"], "12.3456780000", "the lines add up to the revenue exactly");
    assert_eq!(summaries[1]["allocated"], "1.2500000000");
    assert!(summaries.iter().all(|s| s["matched"] != "0" && s["unmatched"] != "0"), "{proof}");

    let unmatched = app.get(&format!("/v1/royalties/reports/{rid}/unmatched")).bearer(&l.token).send().await.value();
    let keys: Vec<&str> =
        unmatched["items"].as_array().unwrap().iter().map(|u| u["match_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 5, "six recordings, one matched: {keys:?}");
    assert!(!keys.contains(&"isrc:DEA120000011") && keys.contains(&"isrc:DEA120000021"), "{keys:?}");

    // The label may not match lines itself; staff map one to the label's track.
    let body = serde_json::json!({"match_key": "isrc:DEA120000022", "track_id": later});
    app.post(&format!("/v1/royalties/reports/{rid}/matches"))
        .bearer(&l.token)
        .json(&body)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let res = app.post(&format!("/v1/royalties/reports/{rid}/matches")).bearer(&admin).json(&body).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["items"].as_array().unwrap().len(), 4);
    let wrong = serde_json::json!({"match_key": "isrc:NOTINREPORT1", "track_id": later});
    app.post(&format!("/v1/royalties/reports/{rid}/matches"))
        .bearer(&admin)
        .json(&wrong)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let after = app.get(&format!("/v1/royalties/reports/{rid}/reconciliation")).bearer(&l.token).send().await.value();
    assert_eq!(after["exact"], true);
    let matched = |p: &Value, i: usize| p["summaries"][i]["matched"].as_str().unwrap().parse::<f64>().unwrap();
    assert!(matched(&after, 0) > matched(&proof, 0), "{after}");

    // The label's next report with the same key is matched to the same track when it is read.
    let next = String::from_utf8(file.clone()).unwrap().replacen("DSR-MATCH", "DSR-MATCH-2", 1);
    let rid2 = id(&upload(&app, &l, "", next.as_bytes()).await.value());
    drain_jobs(&app).await;
    let unmatched = app.get(&format!("/v1/royalties/reports/{rid2}/unmatched")).bearer(&l.token).send().await.value();
    let keys: Vec<&str> =
        unmatched["items"].as_array().unwrap().iter().map(|u| u["match_key"].as_str().unwrap()).collect();
    assert_eq!(keys.len(), 4, "{keys:?}");
    assert!(!keys.contains(&"isrc:DEA120000022"), "remembered: {keys:?}");
    let report: uuid::Uuid = rid2.parse().unwrap();
    let how = sqlx::query_scalar!(
        "SELECT matched_by FROM royalty_matches WHERE report_id = $1 AND match_key = 'isrc:DEA120000022'",
        report
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap();
    assert_eq!(how, "remembered");
}

/// The report's HEAD names another month (the generator writes November 2026).
fn in_month(file: &[u8], first: &str, last: &str) -> Vec<u8> {
    let text = String::from_utf8(file.to_vec()).unwrap();
    text.replacen("2026-11-01\t2026-11-30", &format!("{first}\t{last}"), 1).into_bytes()
}

/// A label with an artist who accepted to be paid in EUR; the artist's token and payee id.
pub(crate) async fn artist_payee(app: &TestApp, l: &Label, username: &str, currency: &str) -> (String, String) {
    let (token, _, _) = signed_in(app, username).await;
    let email = format!("{username}@example.com");
    let res = app
        .post(&format!("/v1/labels/{}/payees", l.id))
        .bearer(&l.token)
        .json(&json!({"name": username, "email": email, "currency": currency}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let payee = res.value();
    assert_eq!(payee["status"], "invited");
    let invitation = crate::support::mailed_token(app, &email).await;
    let res =
        app.post("/v1/royalties/invitations/accept").bearer(&token).json(&json!({"token": invitation})).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["status"], "active");
    (token, id(&payee))
}

pub(crate) async fn label_payee_id(app: &TestApp, l: &Label) -> String {
    let list = app.get(&format!("/v1/labels/{}/payees", l.id)).bearer(&l.token).send().await.value();
    let label = list["items"].as_array().unwrap().iter().find(|p| p["kind"] == "label").unwrap().clone();
    id(&label)
}

pub(crate) async fn release_of(app: &TestApp, l: &Label, track: &str) -> String {
    app.get(&format!("/v1/tracks/{track}")).bearer(&l.token).send().await.assert_status(StatusCode::OK);
    let track: uuid::Uuid = track.parse().unwrap();
    let release: uuid::Uuid =
        sqlx::query_scalar!(r#"SELECT release_id AS "r!" FROM release_tracks WHERE track_id = $1"#, track)
            .fetch_one(&app.db.pool)
            .await
            .unwrap();
    release.to_string()
}

pub(crate) async fn set_split(
    app: &TestApp,
    token: &str,
    release: &str,
    from: &str,
    shares: Value,
) -> testkit::TestResponse {
    app.put(&format!("/v1/releases/{release}/splits"))
        .bearer(token)
        .json(&json!({"effective_from": from, "shares": shares}))
        .send()
        .await
}

/// Staff enter the USD→EUR rate of 2026-11-30.
pub(crate) async fn usd_to_eur(app: &TestApp, admin: &str) {
    app.post("/v1/royalties/exchange-rates")
        .bearer(admin)
        .json(&json!({"day": "2026-11-30", "base": "USD", "quote": "EUR", "rate": "0.9231"}))
        .send()
        .await
        .assert_status(StatusCode::OK);
}

async fn close(app: &TestApp, l: &Label, period: &str) -> testkit::TestResponse {
    app.post(&format!("/v1/labels/{}/royalty-periods", l.id))
        .bearer(&l.token)
        .json(&json!({"period": period}))
        .send()
        .await
}

/// What closing months and entering rates left in the database.
struct Counts {
    periods: i64,
    statements: i64,
    fees: i64,
    rates: i64,
    /// Royalty earnings credited in the ledger.
    credits: i64,
}

async fn counts(app: &TestApp) -> Counts {
    sqlx::query_as!(
        Counts,
        r#"SELECT (SELECT count(*) FROM royalty_periods) AS "periods!",
                  (SELECT count(*) FROM royalty_statements) AS "statements!",
                  (SELECT count(*) FROM royalty_period_fees) AS "fees!",
                  (SELECT count(*) FROM royalty_exchange_rates) AS "rates!",
                  (SELECT count(*) FROM journal_entries WHERE kind = 'earning.credit' AND memo = 'royalty') AS "credits!""#
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// Imports exchange rates as CSV with `token`.
async fn import_rates(app: &TestApp, token: &str, csv: &str) -> testkit::TestResponse {
    app.post("/v1/royalties/exchange-rates/import")
        .bearer(token)
        .header("content-type", "text/csv")
        .body(csv.as_bytes().to_vec())
        .send()
        .await
}

/// The sum of a ledger entry's postings into pending accounts (what it credited).
async fn entry_credit(app: &TestApp, entry: &str) -> i64 {
    let entry: uuid::Uuid = entry.parse().unwrap();
    sqlx::query_scalar!(
        r#"SELECT COALESCE(sum(amount), 0)::bigint AS "n!" FROM postings WHERE entry_id = $1 AND amount > 0"#,
        entry
    )
    .fetch_one(&app.db.pool)
    .await
    .unwrap()
}

/// A month's reports become statements: the deal's fee, the split, the exchange rate, the recoupment and
/// the rounding each do their part; the proof holds to the last unit; the payable amounts are the
/// ledger's postings; a closed month stays closed.
#[tokio::test]
async fn a_month_closes_into_statements_that_reconcile_and_reach_the_wallets() {
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let l = label(&app, "settle-records", "DEK14").await;
    let song = with_isrc(&app, &l, "DE-A12-00-00011").await;
    let release = release_of(&app, &l, &song).await;
    let other_song = with_isrc(&app, &l, "DE-A12-00-00012").await;
    let (artist, artist_payee) = artist_payee(&app, &l, "settle_artist", "EUR").await;
    let label_payee = label_payee_id(&app, &l).await;

    // The deal: staff set it; the label may read it but not change it.
    let deal = json!({"fee_bp": 1000, "effective_from": "2026-01-01"});
    app.put(&format!("/v1/labels/{}/royalty-deal", l.id))
        .bearer(&l.token)
        .json(&deal)
        .send()
        .await
        .assert_status(StatusCode::FORBIDDEN);
    let over = json!({"fee_bp": 10_001, "effective_from": "2026-01-01"});
    let res = app.put(&format!("/v1/labels/{}/royalty-deal", l.id)).bearer(&admin).json(&over).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "fee_bp");
    let res = app.put(&format!("/v1/labels/{}/royalty-deal", l.id)).bearer(&admin).json(&deal).send().await;
    res.assert_status(StatusCode::OK);
    let read = app.get(&format!("/v1/labels/{}/royalty-deal", l.id)).bearer(&l.token).send().await.value();
    assert_eq!((read["fee_bp"].as_i64(), read["default"].as_bool()), (Some(1000), Some(false)), "{read}");

    // Splits: 9,999 and 10,001 basis points are refused, naming the field; 10,000 is kept.
    for (a, b) in [(6999, 3000), (7001, 3000)] {
        let shares = json!([{"payee_id": artist_payee, "share_bp": a}, {"payee_id": label_payee, "share_bp": b}]);
        let res = set_split(&app, &l.token, &release, "2026-11-01", shares).await;
        res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let body = res.value();
        assert_eq!(
            (body["errors"][0]["field"].as_str(), body["errors"][0]["code"].as_str()),
            (Some("shares"), Some("sum_not_whole")),
            "{body}"
        );
    }
    let shares = json!([{"payee_id": artist_payee, "share_bp": 7000}, {"payee_id": label_payee, "share_bp": 3000}]);
    set_split(&app, &l.token, &release, "2026-11-01", shares.clone()).await.assert_status(StatusCode::OK);
    // Someone else's label cannot see or split the release.
    let other = label(&app, "unsettled-records", "DEJ14").await;
    set_split(&app, &other.token, &release, "2026-11-01", shares.clone()).await.assert_status(StatusCode::NOT_FOUND);

    // The label is paid in USD from now on; the artist, with an advance in EUR coming, stays in EUR.
    let to_usd = json!({"currency": "usd"});
    let res =
        app.patch(&format!("/v1/labels/{}/payees/{label_payee}", l.id)).bearer(&l.token).json(&to_usd).send().await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["currency"], "USD");
    let other_label = label(&app, "unpaid-records", "DEU14").await;
    app.patch(&format!("/v1/labels/{}/payees/{label_payee}", other_label.id))
        .bearer(&other_label.token)
        .json(&to_usd)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // An advance of 0.50 EUR against the artist's share of the release.
    let advance =
        json!({"payee_id": artist_payee, "release_id": release, "kind": "advance", "amount": 50, "memo": "studio"});
    app.post(&format!("/v1/labels/{}/recoupables", l.id))
        .bearer(&l.token)
        .json(&advance)
        .send()
        .await
        .assert_status(StatusCode::CREATED);

    let file = dsr("DSR-SETTLE", 1, 3, 7).remove(0);
    let rid = id(&upload(&app, &l, "", &file).await.value());
    drain_jobs(&app).await;
    let proof = app.get(&format!("/v1/royalties/reports/{rid}/proof")).bearer(&l.token).send().await.value();
    assert_eq!(proof["exact"], true, "{proof}");
    let usd = &proof["currencies"][0];
    assert_eq!((usd["currency"].as_str(), usd["total"].as_str()), (Some("USD"), Some("13.595678")), "{proof}");
    assert_eq!(usd["difference"].as_str().unwrap().parse::<f64>().unwrap(), 0.0);
    let payees = usd["payees"].as_array().unwrap();
    assert_eq!(payees.len(), 2, "the artist and the label: {proof}");

    // A missing exchange rate stops the close and keeps nothing.
    let res = close(&app, &l, "2026-11").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.value();
    assert_eq!(body["code"], "exchange_rate_missing");
    assert!(body["detail"].as_str().unwrap().contains("USD→EUR on 2026-11-30"), "{body}");
    let kept = counts(&app).await;
    assert_eq!((kept.periods, kept.statements), (0, 0));

    // Rates are staff's; an import with a wrong row enters nothing.
    let bad = "day,base,quote,rate\n2026-11-30,USD,EUR,0.9\n2026-11-30,USD,GBP,-1\n";
    let res = import_rates(&app, &admin, bad).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "rows[3].rate");
    assert_eq!(counts(&app).await.rates, 0);
    // A rate must be above zero: 0 is refused, the smallest unit above it is taken.
    let zero = import_rates(&app, &admin, "2026-11-30,USD,JPY,0\n").await;
    zero.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(zero.value()["errors"][0]["code"], "out_of_range");
    import_rates(&app, &admin, "2026-11-30,USD,JPY,0.0000000001\n").await.assert_status(StatusCode::OK);
    let good = "day,base,quote,rate\n2026-11-30,USD,EUR,0.9\n";
    import_rates(&app, &l.token, good).await.assert_status(StatusCode::FORBIDDEN);
    let res = import_rates(&app, &admin, good).await;
    res.assert_status(StatusCode::OK);
    assert_eq!(res.value()["imported"], 1);

    // A month not over cannot close; November can, once.
    close(&app, &l, &app.clock_now().format("%Y-%m").to_string()).await.assert_status(StatusCode::CONFLICT);
    let res = close(&app, &l, "2026-11").await;
    res.assert_status(StatusCode::CREATED);
    let closed = res.value();
    let again = close(&app, &l, "2026-11").await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.value()["code"], "period_closed");

    // The fee: 10% of the matched revenue, posted to the platform.
    let fees = closed["fees"].as_array().unwrap();
    assert_eq!(fees.len(), 1);
    assert_eq!(fees[0]["currency"], "USD");
    let statements = closed["statements"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{closed}");
    let mine = statements.iter().find(|s| s["payee_id"] == artist_payee.as_str()).unwrap();
    assert_eq!(mine["currency"], "EUR");
    let earned = mine["earned"].as_i64().unwrap();
    assert!(earned > 50, "{mine}");
    assert_eq!((mine["opening_balance"].as_i64(), mine["recouped"].as_i64()), (Some(-50), Some(50)));
    assert_eq!((mine["payable"].as_i64(), mine["closing_balance"].as_i64()), (Some(earned - 50), Some(0)));

    // The statement's lines add up to its total; the payable amount is what the ledger credited.
    let sid = mine["id"].as_str().unwrap();
    let statement = app.get(&format!("/v1/royalty-statements/{sid}")).bearer(&artist).send().await.value();
    let lines = statement["lines"].as_array().unwrap();
    assert_eq!(lines.iter().map(|l| l["amount"].as_i64().unwrap()).sum::<i64>(), earned, "{statement}");
    assert!(lines.iter().all(|l| l["release_id"] == release.as_str()), "only the split release's lines: {statement}");
    for line in lines {
        let exact: f64 = line["exact"].as_str().unwrap().parse().unwrap();
        let cents = exact * 100.0;
        let amount = line["amount"].as_f64().unwrap();
        assert!(amount >= cents.floor() - 1e-6 && amount <= cents.floor() + 1.0 + 1e-6, "{line}");
    }
    assert_eq!(statement["recoupments"][0]["recouped"], 50);
    assert_eq!(entry_credit(&app, mine["entry_id"].as_str().unwrap()).await, earned - 50);
    for s in statements {
        if let Some(entry) = s["entry_id"].as_str() {
            assert_eq!(entry_credit(&app, entry).await, s["payable"].as_i64().unwrap(), "{s}");
        }
    }
    let label_statement = statements.iter().find(|s| s["payee_id"] == label_payee.as_str()).unwrap();
    assert_eq!(label_statement["currency"], "USD", "the label's other recording and its 30%, in the label's currency");
    // The artist's currency cannot change while an advance in EUR is recorded.
    let res =
        app.patch(&format!("/v1/labels/{}/payees/{artist_payee}", l.id)).bearer(&l.token).json(&to_usd).send().await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["code"], "locked");
    let _ = other_song;
    // The artist's wallet shows it pending.
    let wallet = app.get("/v1/me/wallet").bearer(&artist).send().await.value();
    assert!(wallet.to_string().contains(&(earned - 50).to_string()), "{wallet}");

    // The artist's own statements; CSV and PDF; strangers see none.
    let list = app.get("/v1/me/royalty-statements").bearer(&artist).send().await.value();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let csv = app.get(&format!("/v1/royalty-statements/{sid}?format=csv")).bearer(&artist).send().await;
    csv.assert_status(StatusCode::OK);
    let text = String::from_utf8(csv.body.to_vec()).unwrap();
    assert!(text.starts_with("row,release_id,"), "{text}");
    assert!(text.contains(&format!("payable,,,,,,,,,{},EUR", earned - 50)), "{text}");
    let pdf = app.get(&format!("/v1/royalty-statements/{sid}?format=pdf")).bearer(&l.token).send().await;
    pdf.assert_status(StatusCode::OK);
    let doc = lopdf::Document::load_mem(&pdf.body).unwrap();
    let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
    let extracted = doc.extract_text(&pages).unwrap();
    assert!(extracted.contains("Payable:") && extracted.contains("EUR"), "{extracted}");
    let (stranger, _, _) = signed_in(&app, "settle_stranger").await;
    app.get(&format!("/v1/royalty-statements/{sid}"))
        .bearer(&stranger)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    app.get(&format!("/v1/royalty-statements/{sid}"))
        .bearer(&other.token)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);

    // What was paid is never rewritten: no split, deal or correction reaches into November now.
    let res = set_split(&app, &l.token, &release, "2026-11-15", shares.clone()).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["code"], "locked");
    let late = json!({"fee_bp": 500, "effective_from": "2026-11-01"});
    app.put(&format!("/v1/labels/{}/royalty-deal", l.id))
        .bearer(&admin)
        .json(&late)
        .send()
        .await
        .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = upload(&app, &l, &format!("&replaces={rid}"), &file).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = json!({"match_key": "isrc:DEA120000021", "track_id": other_song});
    let res = app.post(&format!("/v1/royalties/reports/{rid}/matches")).bearer(&admin).json(&body).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "period_closed");
    set_split(&app, &l.token, &release, "2026-12-01", shares).await.assert_status(StatusCode::OK);
}

/// An invitation not accepted within 14 days expires by its timer: the payee's shares go back to the
/// label from that day, in a new split, the old one kept; the token no longer works.
#[tokio::test]
async fn an_unaccepted_invitation_expires_and_its_share_returns_to_the_label() {
    let app = app().await;
    let l = label(&app, "expiring-records", "DEH14").await;
    let song = with_isrc(&app, &l, "DE-A12-00-00011").await;
    let release = release_of(&app, &l, &song).await;
    signed_in(&app, "late_artist").await;
    let res = app
        .post(&format!("/v1/labels/{}/payees", l.id))
        .bearer(&l.token)
        .json(&json!({"name": "Late Artist", "email": "late_artist@example.com"}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let payee = id(&res.value());
    let token = crate::support::mailed_token(&app, "late_artist@example.com").await;
    let label_payee = label_payee_id(&app, &l).await;
    let shares = json!([{"payee_id": payee, "share_bp": 5000}, {"payee_id": label_payee, "share_bp": 5000}]);
    set_split(&app, &l.token, &release, "2026-12-01", shares).await.assert_status(StatusCode::OK);

    // A second before the end nothing happens; after it, the timer expires the invitation.
    app.clock.advance(chrono::Duration::days(14) - chrono::Duration::seconds(1));
    drain_jobs(&app).await;
    let sign_in = |user: String| {
        let app = &app;
        async move {
            let res = crate::support::login(app, &user, crate::support::PASSWORD).await;
            res.value()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let l = Label { token: sign_in(l.user.clone()).await, ..l };
    let payees = app.get(&format!("/v1/labels/{}/payees", l.id)).bearer(&l.token).send().await.value();
    assert!(payees["items"].as_array().unwrap().iter().any(|p| p["id"] == payee.as_str() && p["status"] == "invited"));
    app.clock.advance(chrono::Duration::seconds(2));
    drain_jobs(&app).await;
    let payees = app.get(&format!("/v1/labels/{}/payees", l.id)).bearer(&l.token).send().await.value();
    assert!(
        payees["items"].as_array().unwrap().iter().any(|p| p["id"] == payee.as_str() && p["status"] == "expired"),
        "{payees}"
    );
    let history = app.get(&format!("/v1/releases/{release}/splits")).bearer(&l.token).send().await.value();
    let items = history["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "the old split kept: {history}");
    assert_eq!(items[0]["shares"].as_array().unwrap().len(), 1);
    assert_eq!(
        (items[0]["shares"][0]["payee_id"].as_str(), items[0]["shares"][0]["share_bp"].as_i64()),
        (Some(label_payee.as_str()), Some(10_000))
    );
    assert_eq!(items[0]["effective_from"], app.clock_now().date_naive().to_string());
    assert_eq!(items[1]["shares"].as_array().unwrap().len(), 2);
    let late = sign_in("late_artist".into()).await;
    let res = app.post("/v1/royalties/invitations/accept").bearer(&late).json(&json!({"token": token})).send().await;
    res.assert_status(StatusCode::CONFLICT);
    assert_eq!(res.value()["code"], "invitation_unusable");
}

/// An advance larger than a month's share is recouped over the months that follow; each statement's
/// opening balance is the last one's closing balance.
#[tokio::test]
async fn an_advance_is_recouped_across_periods() {
    let app = app().await;
    let l = label(&app, "recoup-records", "DEG14").await;
    let song = with_isrc(&app, &l, "DE-A12-00-00011").await;
    let release = release_of(&app, &l, &song).await;
    let (artist, artist_payee) = artist_payee(&app, &l, "recoup_artist", "USD").await;
    let shares = json!([{"payee_id": artist_payee, "share_bp": 10_000}]);
    set_split(&app, &l.token, &release, "2026-01-01", shares).await.assert_status(StatusCode::OK);
    let file = dsr("DSR-OCT", 1, 3, 7).remove(0);
    for (message, first, last) in [("DSR-OCT", "2026-10-01", "2026-10-31"), ("DSR-NOV", "2026-11-01", "2026-11-30")] {
        let body = in_month(&file, first, last);
        let text = String::from_utf8(body).unwrap().replacen("DSR-OCT", message, 1);
        upload(&app, &l, "", text.as_bytes()).await.assert_status(StatusCode::ACCEPTED);
    }
    drain_jobs(&app).await;
    // October's share of the recording, to learn how much a month earns.
    let oct = close(&app, &l, "2026-10").await;
    oct.assert_status(StatusCode::CREATED);
    let earned =
        oct.value()["statements"].as_array().unwrap().iter().find(|s| s["payee_id"] == artist_payee.as_str()).unwrap()
            ["earned"]
            .as_i64()
            .unwrap();
    assert!(earned > 2, "{earned}");
    // An advance of one and a half months' earnings, recorded now: November recoups all it earns and
    // leaves the rest for December.
    let amount = earned + earned / 2;
    let advance = json!({"payee_id": artist_payee, "release_id": release, "kind": "advance", "amount": amount});
    app.post(&format!("/v1/labels/{}/recoupables", l.id))
        .bearer(&l.token)
        .json(&advance)
        .send()
        .await
        .assert_status(StatusCode::CREATED);
    let nov = close(&app, &l, "2026-11").await;
    nov.assert_status(StatusCode::CREATED);
    let nov = nov.value();
    let s =
        nov["statements"].as_array().unwrap().iter().find(|s| s["payee_id"] == artist_payee.as_str()).unwrap().clone();
    assert_eq!(s["opening_balance"].as_i64(), Some(-amount));
    assert_eq!(s["recouped"], s["earned"]);
    assert_eq!(s["payable"], 0);
    assert_eq!(s["entry_id"], Value::Null, "nothing payable, nothing posted");
    assert_eq!(s["closing_balance"].as_i64(), Some(-amount + s["earned"].as_i64().unwrap()));
    let list = app.get(&format!("/v1/labels/{}/recoupables", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(list["outstanding"][0]["outstanding"].as_i64(), Some(amount - s["earned"].as_i64().unwrap()), "{list}");
    let mine = app.get("/v1/me/royalty-statements").bearer(&artist).send().await.value();
    assert_eq!(mine["items"].as_array().unwrap().len(), 2);
    assert_eq!(mine["items"][0]["period"], "2026-11");
}

/// Many clients closing the same months of many labels at once: each month closes once, with one
/// statement per payee and one posting each.
#[tokio::test]
async fn concurrent_closes_settle_a_month_once() {
    let app = std::sync::Arc::new(app().await);
    let mut labels = Vec::new();
    let isrcs = ["DE-A12-00-00011", "DE-A12-00-00012", "DE-A12-00-00021"];
    for (i, registrant) in ["DEF14", "DEE14", "DED14"].iter().enumerate() {
        let l = label(&app, &format!("race-records-{i}"), registrant).await;
        with_isrc(&app, &l, isrcs[i]).await;
        upload(&app, &l, "", &dsr(&format!("DSR-RACE-{i}"), 1, 3, 5).remove(0))
            .await
            .assert_status(StatusCode::ACCEPTED);
        labels.push(l);
    }
    drain_jobs(&app).await;
    let admin = crate::support::signed_in_admin(&app).await;
    usd_to_eur(&app, &admin).await;
    let mut tasks = Vec::new();
    for l in &labels {
        for _ in 0..8 {
            let (app, id, token) = (app.clone(), l.id.clone(), l.token.clone());
            tasks.push(tokio::spawn(async move {
                app.post(&format!("/v1/labels/{id}/royalty-periods"))
                    .bearer(&token)
                    .json(&json!({"period": "2026-11"}))
                    .send()
                    .await
                    .status
            }));
        }
    }
    let mut created = 0;
    for t in tasks {
        let status = t.await.unwrap();
        assert!(status == StatusCode::CREATED || status == StatusCode::CONFLICT, "{status}");
        created += usize::from(status == StatusCode::CREATED);
    }
    assert_eq!(created, labels.len());
    let kept = counts(&app).await;
    let n = labels.len() as i64;
    assert_eq!(kept.statements, n, "the label alone is paid");
    assert_eq!((kept.periods, kept.fees, kept.credits), (n, n, n));
}

/// The demo: last month's report for Lumen Records is read, matched (one recording left unmatched),
/// reconciled, and closed into statements; Nova reads hers, recouped and payable.
#[tokio::test]
async fn the_demo_label_has_last_months_report_and_statements() {
    let app = app().await;
    crate::support::load_demo(&app).await;
    let sign_in = |user: &'static str| {
        let app = &app;
        async move {
            let res = crate::support::login(app, user, identity::demo::DEMO_PASSWORD).await;
            res.value()["access_token"].as_str().unwrap().to_owned()
        }
    };
    let (label_token, nova) = (sign_in("lumen_records").await, sign_in("nova").await);
    let label = identity::service::org_id_by_slug(&mut app.db.pool.acquire().await.unwrap(), "lumen-records")
        .await
        .unwrap()
        .unwrap();
    let reports = app.get(&format!("/v1/labels/{label}/royalty-reports")).bearer(&label_token).send().await.value();
    let report = &reports["items"][0];
    assert_eq!(report["status"], "loaded", "{reports}");
    let last_month =
        (app.clock_now().date_naive().with_day(1).unwrap() - chrono::Duration::days(1)).format("%Y-%m").to_string();
    assert!(report["usage_end"].as_str().unwrap().starts_with(&last_month));
    let rid = id(report);
    let proof = app.get(&format!("/v1/royalties/reports/{rid}/proof")).bearer(&label_token).send().await.value();
    assert_eq!(proof["exact"], true, "{proof}");
    let unmatched =
        app.get(&format!("/v1/royalties/reports/{rid}/unmatched")).bearer(&label_token).send().await.value();
    assert_eq!(unmatched["items"][0]["match_key"], "isrc:QZDEM2600001");

    let mine = app.get("/v1/me/royalty-statements").bearer(&nova).send().await.value();
    let statement = &mine["items"][0];
    assert_eq!(
        (statement["period"].as_str(), statement["currency"].as_str()),
        (Some(last_month.as_str()), Some("EUR"))
    );
    assert_eq!(
        (statement["opening_balance"].as_i64(), statement["recouped"].as_i64()),
        (Some(-1_500), Some(1_500)),
        "{mine}"
    );
    assert!(statement["payable"].as_i64().unwrap() > 0, "{mine}");
    let all = app
        .get(&format!("/v1/labels/{label}/royalty-statements?period={last_month}"))
        .bearer(&label_token)
        .send()
        .await
        .value();
    assert_eq!(all["items"].as_array().unwrap().len(), 2, "Nova's and the label's: {all}");

    // Analytics: the label's month, its top recordings and territories; Nova's months.
    let a = app.get(&format!("/v1/labels/{label}/royalty-analytics")).bearer(&label_token).send().await.value();
    let series = a["series"].as_array().unwrap();
    assert_eq!(series.len(), 1, "{a}");
    assert_eq!(series[0]["day"], format!("{last_month}-01"));
    let streams = series[0]["streams"].as_i64().unwrap();
    let usages = sqlx::query_scalar!(r#"SELECT sum(usages)::int8 AS "n!" FROM royalty_lines"#)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(streams, usages, "every matched stream");
    let tops = a["top_tracks"].as_array().unwrap();
    assert!(tops.len() > 1 && tops[0]["streams"].as_i64() >= tops[1]["streams"].as_i64(), "{a}");
    let releases = a["top_releases"].as_array().unwrap();
    assert!(releases.iter().any(|r| r["title"] == "Night Lines"), "releases by their titles: {a}");
    let territories: Vec<&str> =
        a["top_territories"].as_array().unwrap().iter().map(|t| t["key"].as_str().unwrap()).collect();
    assert_eq!(territories, ["US", "GB"]);
    let only_gb = app
        .get(&format!("/v1/labels/{label}/royalty-analytics?territory=gb"))
        .bearer(&label_token)
        .send()
        .await
        .value();
    assert!(only_gb["series"][0]["streams"].as_i64().unwrap() < streams);
    let bad = app
        .get(&format!("/v1/labels/{label}/royalty-analytics?from=2026-05-01&to=2026-04-01"))
        .bearer(&label_token)
        .send()
        .await;
    bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    app.get(&format!("/v1/labels/{label}/royalty-analytics"))
        .bearer(&nova)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    let mine = app.get("/v1/me/royalty-analytics").bearer(&nova).send().await.value();
    assert_eq!(mine["series"][0]["earned"], statement["earned"], "{mine}");
    assert!(mine["top_tracks"].as_array().unwrap().len() > 1);
}

/// A store that sends CSV: its mapping is saved once, then its exports are read like DSR (matched,
/// reconciled, recognised when sent twice); a file without the mapped columns or with a bad row is
/// refused naming them.
#[tokio::test]
async fn a_stores_csv_export_is_read_with_its_saved_mapping() {
    let app = app().await;
    let l = label(&app, "csv-records", "DEC15").await;
    with_isrc(&app, &l, "DE-A12-00-00011").await;
    let put = |body: Value| {
        let (app, l) = (&app, &l);
        async move { app.put(&format!("/v1/labels/{}/csv-mappings/ShopCo", l.id)).bearer(&l.token).json(&body).send().await }
    };
    let res = put(json!({"delimiter": "|", "territory": "Country", "usages": "Qty", "revenue": "Net"})).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> =
        res.value()["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_owned()).collect();
    assert_eq!(fields, ["delimiter", "isrc", "currency"]);
    let mapping = json!({"delimiter": ";", "decimal_comma": true, "isrc": "ISRC", "title": "Track", "artist": "Artist",
                         "territory": "Country", "usages": "Qty", "revenue": "Net", "currency": "EUR"});
    put(mapping).await.assert_status(StatusCode::OK);
    let list = app.get(&format!("/v1/labels/{}/csv-mappings", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(list["items"][0]["store"], "ShopCo");

    let csv = "Track;Artist;ISRC;Country;Qty;Net\r\n\
               Song 1-1;Nova;DE-A12-00-00011;DE;1200;4,80\r\n\
               Song 1-1;Nova;DEA120000011;AT;100;0,41\r\n\
               \"Elsewhere; live\";Other;DEA129999999;DE;10;0,05\r\n";
    let send = |query: &'static str, body: &'static str| {
        let (app, l) = (&app, &l);
        async move {
            app.post(&format!("/v1/royalties/reports?label_id={}&format=csv{query}", l.id))
                .bearer(&l.token)
                .header("content-type", "text/csv")
                .body(body.as_bytes().to_vec())
                .send()
                .await
        }
    };
    let res = send("&store=Unknown&period=2026-11", csv).await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.value()["errors"][0]["field"], "store");
    send("&store=ShopCo", csv).await.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let res = send("&store=ShopCo&period=2026-11", "Track;ISRC;Qty\nA;B;1\n").await;
    res.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.value();
    assert_eq!(body["code"], "not_a_report");
    assert!(body["detail"].as_str().unwrap().contains("territory, revenue"), "{body}");

    let res = send("&store=ShopCo&period=2026-11", csv).await;
    res.assert_status(StatusCode::ACCEPTED);
    let rid = id(&res.value());
    drain_jobs(&app).await;
    let r = report(&app, &l, &rid).await;
    assert_eq!((r["status"].as_str(), r["usage_lines"].as_i64()), (Some("loaded"), Some(3)), "{r}");
    assert_eq!((r["usage_start"].as_str(), r["usage_end"].as_str()), (Some("2026-11-01"), Some("2026-11-30")));
    let proof = app.get(&format!("/v1/royalties/reports/{rid}/proof")).bearer(&l.token).send().await.value();
    assert_eq!(proof["exact"], true, "{proof}");
    assert_eq!(proof["currencies"][0]["total"].as_str().unwrap().parse::<f64>().unwrap(), 5.26);
    assert_eq!(proof["currencies"][0]["unmatched"].as_str().unwrap().parse::<f64>().unwrap(), 0.05);
    let again = send("&store=ShopCo&period=2026-11", csv).await;
    again.assert_status(StatusCode::CONFLICT);
    assert_eq!(again.value()["code"], "duplicate_report");

    let bad = "Track;Artist;ISRC;Country;Qty;Net\nA;N;DEA120000011;DE;many;1,0\n";
    let rid = id(&send("&store=ShopCo&period=2026-10", bad).await.value());
    drain_jobs(&app).await;
    let r = report(&app, &l, &rid).await;
    assert_eq!(r["status"], "refused");
    assert_eq!((r["errors"][0]["line"].as_i64(), r["errors"][0]["cell"].as_str()), (Some(2), Some("usages")), "{r}");
    assert_eq!(usage_rows(&app, &rid).await, 0);
}

/// Registers the SFTP server as a store whose path is its inbox folder.
async fn register_sftp(
    app: &TestApp,
    admin: &str,
    sftp: &testkit::stores::SftpServer,
    name: &str,
    dpid: &str,
) -> Value {
    let res = app
        .post("/v1/admin/stores")
        .bearer(admin)
        .json(&json!({"name": name, "dpid": dpid, "protocol": "sftp", "host": "127.0.0.1", "port": sftp.port,
                      "username": sftp.user, "path": sftp.inbox().display().to_string(),
                      "host_key": sftp.host_key, "credentials": {"private_key": sftp.client_key}, "lead_days": 10}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    res.value()
}

/// Stores leave reports in the label's folder of their SFTP server or S3 bucket: staff set the inbox up,
/// each new file is taken once (a file that is not a report is remembered and not taken again), and the
/// reports are read like uploads.
#[tokio::test]
async fn reports_are_picked_up_from_stores_sftp_and_s3_inboxes() {
    let sftp = testkit::stores::SftpServer::start();
    let s3 = testkit::stores::S3Server::start("reports-inbox");
    let app = app().await;
    let admin = crate::support::signed_in_admin(&app).await;
    let l = label(&app, "inbox-records", "DEI15").await;
    with_isrc(&app, &l, "DE-A12-00-00011").await;
    let inbox = sftp.inbox().display().to_string();
    let sftp_store = register_sftp(&app, &admin, &sftp, "Tunes SFTP", "PADPIDA2026120211S").await;
    let s3_store = app
        .post("/v1/admin/stores")
        .bearer(&admin)
        .json(&json!({"name": "Streamly S3", "dpid": "PADPIDA2026120222T", "protocol": "s3", "bucket": s3.bucket,
                      "endpoint": s3.endpoint(), "region": "us-east-1", "path": "incoming",
                      "credentials": {"access_key_id": "testing", "secret_access_key": "testing"}}))
        .send()
        .await
        .value();

    // Only staff say which folder of a store is the label's.
    let body = json!({"store_id": sftp_store["id"]});
    let path = format!("/v1/labels/{}/royalty-inboxes", l.id);
    app.post(&path).bearer(&l.token).json(&body).send().await.assert_status(StatusCode::FORBIDDEN);
    let res = app.post(&path).bearer(&admin).json(&body).send().await;
    res.assert_status(StatusCode::CREATED);
    let sftp_inbox = res.value();
    assert_eq!(sftp_inbox["folder"], format!("{inbox}/sales-reports"));
    let s3_body = json!({"store_id": s3_store["id"], "folder": "incoming/inbox-records"});
    let s3_inbox = app.post(&path).bearer(&admin).json(&s3_body).send().await.value();

    // The store leaves a report and something else in each.
    let folder = sftp.inbox().join("sales-reports");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("DSR_SFTP_2026-11.tsv"), dsr("DSR-SFTP", 1, 3, 7).remove(0)).unwrap();
    std::fs::write(folder.join("readme.txt"), b"not a report").unwrap();
    s3.put("incoming/inbox-records/DSR_S3.tsv.gz", &gzip(&dsr("DSR-S3", 1, 2, 5).remove(0)));

    let poll = |inbox: &Value, token: &str| {
        let (app, id, token) = (&app, inbox["id"].as_str().unwrap().to_owned(), token.to_owned());
        async move {
            let res = app.post(&format!("/v1/royalty-inboxes/{id}/poll")).bearer(&token).send().await;
            res.assert_status(StatusCode::OK);
            res.value()
        }
    };
    let polled = poll(&sftp_inbox, &l.token).await;
    let files = polled["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{polled}");
    let taken = files.iter().find(|f| f["name"] == "DSR_SFTP_2026-11.tsv").unwrap();
    assert_eq!(taken["outcome"], "received");
    let refused = files.iter().find(|f| f["name"] == "readme.txt").unwrap();
    assert!(refused["outcome"].as_str().unwrap().starts_with("not_a_report"), "{refused}");
    assert_eq!(polled["last_error"], Value::Null);
    let polled_s3 = poll(&s3_inbox, &l.token).await;
    assert_eq!(polled_s3["files"][0]["outcome"], "received", "{polled_s3}");
    drain_jobs(&app).await;
    for file in [taken, &polled_s3["files"][0]] {
        let r = report(&app, &l, file["report_id"].as_str().unwrap()).await;
        assert_eq!(r["status"], "loaded", "{r}");
    }
    // Polled again (by the schedule's job too): nothing is taken twice.
    let again = poll(&sftp_inbox, &l.token).await;
    assert_eq!(again["files"].as_array().unwrap().len(), 2);
    let reports = app.get(&format!("/v1/labels/{}/royalty-reports", l.id)).bearer(&l.token).send().await.value();
    assert_eq!(reports["items"].as_array().unwrap().len(), 2);
    // Another label neither sees nor polls it.
    let other = label(&app, "other-inbox-records", "DEJ15").await;
    app.post(&format!("/v1/royalty-inboxes/{}/poll", sftp_inbox["id"].as_str().unwrap()))
        .bearer(&other.token)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    // A store that cannot be reached is said on the inbox, and nothing is lost.
    drop(sftp);
    let down = poll(&sftp_inbox, &l.token).await;
    assert!(down["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{down}");
}

/// Reads a server-sent event stream until an event named `name` (`any`: of any name) whose data
/// satisfies `wanted`.
async fn event_named(
    body: &mut axum::body::Body,
    buffer: &mut String,
    name: &str,
    wanted: impl Fn(&Value) -> bool,
) -> Value {
    use http_body_util::BodyExt;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let event = block.lines().find_map(|l| l.strip_prefix("event:")).unwrap_or_default().trim().to_owned();
            let data = block.lines().find_map(|l| l.strip_prefix("data:")).unwrap_or_default().trim().to_owned();
            if (event == name || (name == "any" && !event.is_empty()))
                && let Ok(value) = serde_json::from_str::<Value>(&data)
                && wanted(&value)
            {
                return value;
            }
        }
        let frame = tokio::time::timeout(std::time::Duration::from_secs(10), body.frame())
            .await
            .unwrap_or_else(|_| panic!("no {name} event in time; read so far: {buffer}"))
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

/// The sender's open stream hears the reading's progress as it goes and its end, then the notification.
#[tokio::test]
async fn the_reading_is_pushed_on_the_senders_stream() {
    let app = app().await;
    let l = label(&app, "stream-records", "DES15").await;
    drain_jobs(&app).await;
    let req = axum::http::Request::get("/v1/me/stream")
        .header("authorization", format!("Bearer {}", l.token))
        .body(axum::body::Body::empty())
        .unwrap();
    let router = backline::app(app.ctx.clone(), platform::http::EdgeLimits::default(), None);
    let res = tower::ServiceExt::oneshot(router, req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.into_body();
    let mut buffer = String::new();
    // A first notification shows the stream is listening.
    let user =
        sqlx::query_scalar!("SELECT id FROM users WHERE username = $1", l.user).fetch_one(&app.db.pool).await.unwrap();
    let mut tx = app.db.pool.begin().await.unwrap();
    let event = platform::events::Event {
        kind: "account.password_changed",
        recipients: vec![user],
        organization: None,
        data: json!({}),
    };
    platform::events::emit(&mut tx, event, app.clock_now()).await.unwrap();
    tx.commit().await.unwrap();
    drain_jobs(&app).await;
    event_named(&mut body, &mut buffer, "notification", |_| true).await;

    let rid = id(&upload(&app, &l, "", &dsr("DSR-LIVE", 1, 3, 7).remove(0)).await.value());
    drain_jobs(&app).await;
    // The notification is read from the database and the passing reports come as they were sent: the
    // two kinds may interleave, each in its own order.
    let mut progress = Vec::new();
    let mut note = None;
    while note.is_none() || progress.last().is_none_or(|p: &Value| p["phase"] != "done") {
        let event = event_named(&mut body, &mut buffer, "any", |_| true).await;
        match event["kind"].as_str() {
            Some("royalties.report") => progress.push(event),
            Some("royalties.report_read") => note = Some(event),
            _ => {}
        }
    }
    let started = &progress[0];
    assert_eq!((started["phase"].as_str(), started["percent"].as_i64()), (Some("reading"), Some(0)), "{started}");
    assert_eq!((started["message_id"].as_str(), started["report_id"].as_str()), (Some("DSR-LIVE"), Some(rid.as_str())));
    let done = progress.last().unwrap();
    assert_eq!(done["percent"], 100);
    assert_eq!(done["lines_done"], done["lines_total"]);
    assert!(note.unwrap()["title"].as_str().unwrap().contains("DSR-LIVE"));
}

/// Many polls of one inbox at once, round after round of new files: each file makes exactly one report,
/// and each file's record keeps the report it made.
#[tokio::test]
async fn concurrent_polls_take_each_file_once() {
    let sftp = testkit::stores::SftpServer::start();
    let app = std::sync::Arc::new(app().await);
    let admin = crate::support::signed_in_admin(&app).await;
    let l = label(&app, "busy-inbox-records", "DEK15").await;
    let store = register_sftp(&app, &admin, &sftp, "Busy SFTP", "PADPIDA2026120233S").await;
    let res = app
        .post(&format!("/v1/labels/{}/royalty-inboxes", l.id))
        .bearer(&admin)
        .json(&json!({"store_id": store["id"]}))
        .send()
        .await;
    res.assert_status(StatusCode::CREATED);
    let inbox = res.value()["id"].as_str().unwrap().to_owned();
    let folder = sftp.inbox().join("sales-reports");
    std::fs::create_dir_all(&folder).unwrap();
    for round in 0..3 {
        for f in 0..3 {
            let message = format!("DSR-BUSY-{round}-{f}");
            std::fs::write(folder.join(format!("{message}.tsv")), dsr(&message, 1, 1, 3).remove(0)).unwrap();
        }
        let polls: Vec<_> = (0..8)
            .map(|_| {
                let (app, token, inbox) = (app.clone(), l.token.clone(), inbox.clone());
                tokio::spawn(async move {
                    app.post(&format!("/v1/royalty-inboxes/{inbox}/poll")).bearer(&token).send().await.status
                })
            })
            .collect();
        for poll in polls {
            assert_eq!(poll.await.unwrap(), StatusCode::OK);
        }
        let taken = (round + 1) * 3;
        let reports = app.get(&format!("/v1/labels/{}/royalty-reports", l.id)).bearer(&l.token).send().await.value();
        assert_eq!(reports["items"].as_array().unwrap().len(), taken, "round {round}: one report a file");
        let listed = app.get(&format!("/v1/labels/{}/royalty-inboxes", l.id)).bearer(&l.token).send().await.value();
        let files = listed["items"][0]["files"].as_array().unwrap();
        assert_eq!(files.len(), taken);
        assert!(
            files.iter().all(|f| f["outcome"] == "received" && f["report_id"].is_string()),
            "round {round}: every file keeps its report: {listed}"
        );
    }
}
