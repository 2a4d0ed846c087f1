//! Catalog benchmark: uploading and checking a 10-track album of 16-bit/44.1 kHz stereo WAVs (about 40 MB
//! each) over HTTP, beside a plain copy of the same bytes on the same disk, with the process's peak RSS;
//! then DDEX ERN 4.3 messages for 1,000 releases: made, and validated against the official XSD by
//! `xmllint`. Run with `cargo bench -p backline --bench catalog`; results in docs/benchmarks.md.

#![allow(clippy::print_stdout)]

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use platform::AppContext;
use platform::storage::{Backend, Storage};
use support::{Client, peak_rss_mb, serve};

const TRACKS: usize = 10;
/// Seconds of audio per track: 227 s of 16-bit stereo at 44.1 kHz is 40 MB.
const SECONDS: usize = 227;

/// Writes a WAV of music-like noise and tones to `path`, streaming (never the whole file in memory).
fn write_wav(path: &Path, seed: u64) -> u64 {
    let frames = 44_100 * SECONDS;
    let data_len = (frames * 4) as u32;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    out.write_all(b"RIFF").unwrap();
    out.write_all(&(36 + data_len).to_le_bytes()).unwrap();
    out.write_all(b"WAVEfmt ").unwrap();
    out.write_all(&16u32.to_le_bytes()).unwrap();
    out.write_all(&1u16.to_le_bytes()).unwrap();
    out.write_all(&2u16.to_le_bytes()).unwrap();
    out.write_all(&44_100u32.to_le_bytes()).unwrap();
    out.write_all(&(44_100u32 * 4).to_le_bytes()).unwrap();
    out.write_all(&4u16.to_le_bytes()).unwrap();
    out.write_all(&16u16.to_le_bytes()).unwrap();
    out.write_all(b"data").unwrap();
    out.write_all(&data_len.to_le_bytes()).unwrap();
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    for i in 0..frames {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        let noise = ((state >> 33) as f64 / f64::from(u32::MAX) - 0.5) * 0.05;
        let t = i as f64 / 44_100.0;
        let v = (2.0 * std::f64::consts::PI * (220.0 + seed as f64 * 20.0) * t).sin() * 0.3 + noise;
        let s = (v * 32_767.0) as i16;
        out.write_all(&s.to_le_bytes()).unwrap();
        out.write_all(&(s / 2).to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
    u64::from(data_len) + 44
}

async fn call(client: &mut Client, method: &str, path: &str, key: &str, body: &str) -> serde_json::Value {
    let (status, answer) = client.send(method, path, Some(key), Some(body)).await;
    assert!((200..300).contains(&status), "{method} {path}: {status} {}", String::from_utf8_lossy(&answer));
    serde_json::from_slice(&answer).unwrap()
}

/// The process's peak resident memory (VmHWM), in MB.
#[tokio::main]
async fn main() {
    let work = tempfile::Builder::new().prefix("catalog-bench-").tempdir_in(std::env::temp_dir()).unwrap();
    let db = testkit::TestDb::new().await;
    let pool = sqlx::postgres::PgPoolOptions::new().max_connections(10).connect(&db.url()).await.unwrap();
    let storage = Storage::open(&Backend::Local(work.path().join("objects")), &work.path().join("staging")).unwrap();
    let ctx = AppContext::new(pool.clone(), "http://bench.invalid").with_storage(storage);
    let addr = serve(ctx).await;
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    println!("catalog benchmark: {cores} cores; {TRACKS} WAVs of {SECONDS} s (16 bit, 44.1 kHz, stereo)");

    // A label with a release of ten tracks, through the API.
    let key = support::label_key(&pool).await;
    let mut client = Client::connect(addr).await;
    let org =
        call(&mut client, "POST", "/v1/orgs", &key, r#"{"slug": "bench-label", "name": "Bench", "kind": "label"}"#)
            .await;
    let org = org["id"].as_str().unwrap().to_owned();
    let release = call(
        &mut client,
        "POST",
        "/v1/releases",
        &key,
        &format!(r#"{{"label_id": "{org}", "release_type": "album", "title": "Bench", "display_artist": "Bench"}}"#),
    )
    .await;
    let rid = release["id"].as_str().unwrap().to_owned();
    let mut tracks = Vec::new();
    for i in 0..TRACKS {
        let t = call(
            &mut client,
            "POST",
            &format!("/v1/releases/{rid}/tracks"),
            &key,
            &format!(r#"{{"title": "Track {i}"}}"#),
        )
        .await;
        tracks.push(t["track"]["id"].as_str().unwrap().to_owned());
    }

    // The files, on disk.
    let files: Vec<PathBuf> = (0..TRACKS).map(|i| work.path().join(format!("track{i}.wav"))).collect();
    let mut bytes = 0u64;
    for (i, f) in files.iter().enumerate() {
        bytes += write_wav(f, i as u64);
    }
    let mb = bytes as f64 / 1_000_000.0;

    // Baseline: a plain copy of the same bytes on the same disk.
    let started = Instant::now();
    for (i, f) in files.iter().enumerate() {
        std::fs::copy(f, work.path().join(format!("copy{i}.wav"))).unwrap();
    }
    let copy = started.elapsed();
    for i in 0..TRACKS {
        let _ = std::fs::remove_file(work.path().join(format!("copy{i}.wav")));
    }

    // Uploads: streamed over HTTP, staged with SHA-256 and MD5, decoded, measured (EBU R128 loudness and
    // true peak), kept by content and recorded. One at a time, as an uploader's browser would.
    let started = Instant::now();
    for (track, f) in tracks.iter().zip(&files) {
        let (status, _) =
            support::send_file(addr, "PUT", &format!("/v1/tracks/{track}/audio"), &key, "audio/wav", f).await;
        assert_eq!(status, 200, "upload");
    }
    let upload = started.elapsed();
    let upload_rate = mb / upload.as_secs_f64();
    let copy_rate = mb / copy.as_secs_f64();
    println!(
        "album upload: {mb:.0} MB in {:.1} s = {upload_rate:.0} MB/s; plain copy {copy_rate:.0} MB/s; ratio {:.2}",
        upload.as_secs_f64(),
        upload_rate / copy_rate
    );
    println!("peak RSS of the process (server and client): {:.0} MB", peak_rss_mb());

    // ERN 4.3 for 1,000 releases: made in memory, then validated against the XSD.
    let mut conn = pool.acquire().await.unwrap();
    let row = catalog::releases::repo::release(&mut conn, catalog::model::ReleaseId(rid.parse().unwrap()))
        .await
        .unwrap()
        .unwrap();
    let list = catalog::tracks::repo::track_list(&mut conn, row.id).await.unwrap();
    drop(conn);
    let mut row = row;
    row.genre = Some("Electronic".into());
    row.upc = Some("4012345000016".into());
    row.release_date = chrono::NaiveDate::from_ymd_opt(2027, 1, 1);
    (row.p_line_year, row.p_line, row.c_line_year, row.c_line) =
        (Some(2026), Some("Bench".into()), Some(2026), Some("Bench".into()));
    let tracks: Vec<_> = list
        .into_iter()
        .enumerate()
        .map(|(i, mut l)| {
            l.track.isrc = Some(format!("DEA122600{i:03}"));
            let file = catalog::releases::ern::AudioFile {
                uri: format!("resources/DEA122600{i:03}.wav"),
                md5: "0".repeat(32),
            };
            (l, vec![], Some(file))
        })
        .collect();
    let sender = catalog::releases::ern::Messenger { dpid: "PADPIDA2026120201B".into(), name: "Bench".into() };
    let recipient = catalog::releases::ern::Messenger { dpid: "PADPIDA2026120299S".into(), name: "Store".into() };
    let artist = catalog::tracks::repo::CreditRow {
        party_id: catalog::model::PartyId::new(),
        name: "Bench".into(),
        isni: None,
        ipi: None,
        role: catalog::model::CreditRole::MainArtist,
        ordinal: 1,
    };
    let credits = [artist];
    let messages_dir = work.path().join("messages");
    std::fs::create_dir_all(&messages_dir).unwrap();
    let started = Instant::now();
    let mut paths = Vec::new();
    for i in 0..1000 {
        row.title = format!("Bench {i}");
        let id = format!("{i:032}");
        let xml = catalog::releases::ern::render(&catalog::releases::ern::Message {
            message_id: &id,
            thread_id: &id,
            created: chrono::Utc::now(),
            sender: &sender,
            recipient: &recipient,
            release: &row,
            credits: &credits,
            tracks: &tracks,
            territory_dates: &[],
            artwork: None,
            blocked: &[],
            action: catalog::releases::ern::Action::Release,
            test: false,
        });
        let path = messages_dir.join(format!("{i}.xml"));
        std::fs::write(&path, xml).unwrap();
        paths.push(path);
    }
    let made = started.elapsed();
    let started = Instant::now();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(testkit::ddex::ern43_schema())
        .args(&paths)
        .output()
        .expect("xmllint runs");
    let validated = started.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    println!(
        "ERN 4.3 ({TRACKS} tracks each): 1,000 made in {:.0} ms = {:.0} messages/s; validated by xmllint in {:.1} s = {:.0} messages/s",
        made.as_secs_f64() * 1000.0,
        1000.0 / made.as_secs_f64(),
        validated.as_secs_f64(),
        1000.0 / validated.as_secs_f64()
    );
}
