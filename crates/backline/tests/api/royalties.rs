//! Royalties through the HTTP API: sales reports uploaded (plain, gzip, in several files), read by the
//! job into summaries and usage lines, refused whole with their errors, recognised when sent twice, and
//! replaced by an explicit correction.

use axum::http::StatusCode;
use serde_json::Value;
use testkit::TestApp;

use crate::catalog::{Label, label};
use crate::support::{app, drain_jobs, signed_in};

/// A valid DSR report: see `testkit::dsr`.
pub(crate) fn dsr(message: &str, files: usize, blocks: usize, per: usize) -> Vec<Vec<u8>> {
    testkit::dsr::files(message, files, blocks as u64, per as u64)
}

async fn upload(app: &TestApp, l: &Label, query: &str, bytes: &[u8]) -> testkit::TestResponse {
    app.post(&format!("/v1/royalties/reports?label_id={}{query}", l.id))
        .bearer(&l.token)
        .header("content-type", "text/tab-separated-values")
        .body(bytes.to_vec())
        .send()
        .await
}

async fn report(app: &TestApp, l: &Label, id: &str) -> Value {
    let res = app.get(&format!("/v1/royalties/reports/{id}")).bearer(&l.token).send().await;
    res.assert_status(StatusCode::OK);
    res.value()
}

async fn usage_rows(app: &TestApp, id: &str) -> i64 {
    let id: uuid::Uuid = id.parse().unwrap();
    sqlx::query_scalar!(r#"SELECT count(*) AS "n!" FROM royalty_usages WHERE report_id = $1"#, id)
        .fetch_one(&app.db.pool)
        .await
        .unwrap()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
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
    let res = upload(&app, &l, "", bad.as_bytes()).await;
    res.assert_status(StatusCode::ACCEPTED);
    let rid = id(&res.value());
    drain_jobs(&app).await;
    let r = report(&app, &l, &rid).await;
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
    // A refused report does not count as received: the corrected file is taken.
    let fixed = upload(&app, &l, "", good.as_bytes()).await;
    fixed.assert_status(StatusCode::ACCEPTED);
    drain_jobs(&app).await;
    assert_eq!(report(&app, &l, &id(&fixed.value())).await["status"], "loaded");
}

/// The same report sent by many clients at once is taken once: the others are told it is a duplicate.
#[tokio::test]
async fn a_report_sent_many_times_at_once_is_taken_once() {
    let app = std::sync::Arc::new(app().await);
    let l = std::sync::Arc::new(label(&app, "race-records", "DEC13").await);
    for round in 0..3 {
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
async fn with_isrc(app: &TestApp, l: &Label, isrc: &str) -> String {
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
}
