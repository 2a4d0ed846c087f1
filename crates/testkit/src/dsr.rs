//! Valid DDEX DSR reports (Basic Audio Profile 1.3) for tests and benchmarks: `blocks` releases with two
//! recordings each (ISRCs `DEA12` + seven digits: block × 10 + recording) and `per` sales lines per
//! recording, over two summary records (a subscription one in the US and an ad-supported one in GB),
//! split into `files` files, each written to its own writer as it is made (nothing held in memory). The
//! summaries' `TotalUsages` are the exact sums of their lines.

use std::io::Write;

/// The streams of sales line `n` (from 1): 1 to 7.
fn streams(n: u64) -> i64 {
    1 + (n % 7) as i64
}

/// The summary record sales line `k` of a recording names (1 or 2).
fn summary(k: u64) -> u64 {
    1 + (k % 2)
}

/// Writes the report into `outs` (one writer per file). CRLF line ends, a heading row per file.
pub fn write(message: &str, blocks: u64, per: u64, outs: &mut [&mut dyn Write]) -> std::io::Result<()> {
    let files = outs.len() as u64;
    // The totals first (the summaries come before the blocks): the same arithmetic as the lines below.
    let mut usages = [0i64; 2];
    let mut n = 0;
    for _ in 0..blocks * 2 {
        for k in 0..per {
            n += 1;
            usages[(summary(k) - 1) as usize] += streams(n);
        }
    }
    let summaries = [
        format!(
            "SY01.02\t1\tStreamCo\tPADPIDA2024000001S\tSubscriptionModel\t\tUS\tStreamCo Premium\t{}\t3\tUSD\t12.345678\t\t\t",
            usages[0]
        ),
        format!(
            "SY02.03\t2\tStreamCo\tPADPIDA2024000001S\tAdvertisementSupportedModel\t\tGB\tStreamCo Free\t{}\t1\tUSD\t3.000000\tBackline\tDPID::PADPIDA2024000002L\t{}\t1.500000\t1.250000\t\tMusic\t\t\t",
            usages[1], usages[1]
        ),
    ];
    let block_range = |f: u64| (f * blocks / files + 1, (f + 1) * blocks / files);
    let lines_of = |f: u64| {
        let (from, to) = block_range(f);
        let b = (to + 1).saturating_sub(from);
        2 + 2 + b * (3 + 2 * per) + 1
    };
    let report_lines: u64 = (0..files).map(lines_of).sum();
    let mut n = 0u64;
    for (f, out) in outs.iter_mut().enumerate() {
        let f = f as u64;
        let mut w = std::io::BufWriter::with_capacity(1 << 16, &mut **out);
        write!(
            w,
            "HEAD\tdsrf/1.3/1.4.1/1.3\tBasicAudioProfile\t1.3\t{message}\t2026-12-01T06:00:00Z\t{}\t{files}\t2026-11-01\t2026-11-30\tPADPIDA2024000001S\tStreamCo Music Ltd\tStreamCo\tPADPIDA2024000002L\tBackline\t\r\n",
            f + 1
        )?;
        write!(w, "#SU02.02\tBlockId\tSummaryRecordId\tSalesTransactionId\r\n")?;
        for s in &summaries {
            write!(w, "{s}\r\n")?;
        }
        let (from, to) = block_range(f);
        for b in from..=to {
            write!(
                w,
                "RE01.02\t{b}\tR1\tR{b:09}\tLBL::CAT-{b}\t\t{}\tNova\t\tRelease {b}\t\tAlbum\tBackline Records\t(P) 2026 Backline\tBackline\t2026-01-01\r\n",
                4_012_345_000_000u64 + b * 10
            )?;
            for r in 1..=2 {
                write!(
                    w,
                    "AS01.02\t{b}\tA{r}\tT{b}{r}\tDEA12{:07}\tSong {b}-{r}\t\tNova\t\tPT3M10S\tSoundRecording\ttrue\tfalse\t\r\n",
                    b * 10 + r
                )?;
            }
            for r in 1..=2 {
                for k in 0..per {
                    n += 1;
                    write!(
                        w,
                        "SU02.02\t{b}\t{}\t{n}\t\tA{r}\ttrue\t{}\t\t\tOnDemandStream\r\n",
                        summary(k),
                        streams(n)
                    )?;
                }
            }
        }
        let last = f + 1 == files;
        let blocks_here = (to + 1).saturating_sub(from);
        write!(
            w,
            "FOOT\t{}\t{}\t2\t{blocks_here}\t{}\r\n",
            lines_of(f),
            if last { report_lines.to_string() } else { String::new() },
            if last { blocks.to_string() } else { String::new() }
        )?;
        w.flush()?;
    }
    Ok(())
}

/// The report's files in memory (for tests of small reports).
pub fn files(message: &str, files: usize, blocks: u64, per: u64) -> Vec<Vec<u8>> {
    let mut outs: Vec<Vec<u8>> = vec![Vec::new(); files];
    let mut writers: Vec<&mut dyn Write> = outs.iter_mut().map(|o| o as &mut dyn Write).collect();
    write(message, blocks, per, &mut writers).expect("writing to memory");
    outs
}
