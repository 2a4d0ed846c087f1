//! Checking a track's audio by decoding it, not by trusting its name: WAV (PCM or float) or FLAC, at least
//! 44.1 kHz and 16 bits, stereo, decodable to its end. While decoding, it measures what stores normalise
//! to: integrated loudness (EBU R128 / ITU-R BS.1770, in LUFS) and true peak (dBTP), and counts samples at
//! full scale (clipping). Reading streams through the file in blocks: memory stays small whatever its size.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use ebur128::{EbuR128, Mode};

/// What the decoding found.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// `wav` or `flac`.
    pub format: &'static str,
    pub sample_rate: u32,
    pub bits_per_sample: u16,
    pub channels: u16,
    /// Sample frames (one sample per channel).
    pub frames: u64,
    pub duration_ms: i64,
    /// Integrated loudness; `None` for silence.
    pub loudness_lufs: Option<f64>,
    /// The highest true peak of any channel; `None` for silence.
    pub true_peak_dbtp: Option<f64>,
    /// Samples at digital full scale.
    pub clipped_samples: u64,
}

/// Why a file is refused: the rule broken and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: &'static str,
    pub message: String,
}

/// The lowest sample rate and depth stores take.
pub const MIN_SAMPLE_RATE: u32 = 44_100;
pub const MIN_BITS: u16 = 16;

/// Decodes the file to its end and measures it; every problem found at once.
pub fn check(path: &Path) -> Result<AudioInfo, Vec<Refusal>> {
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path).map_err(|e| vec![corrupt(e)])?);
    let mut magic = [0u8; 12];
    let n = read_up_to(&mut file, &mut magic).map_err(|e| vec![corrupt(e)])?;
    file.seek(SeekFrom::Start(0)).map_err(|e| vec![corrupt(e)])?;
    let info = if n >= 12 && &magic[..4] == b"RIFF" && &magic[8..12] == b"WAVE" {
        wav(file)
    } else if n >= 4 && &magic[..4] == b"fLaC" {
        flac(file)
    } else {
        Err(vec![Refusal { rule: "unsupported_format", message: "is neither a WAV nor a FLAC file".to_owned() }])
    }?;
    let mut problems = Vec::new();
    if info.sample_rate < MIN_SAMPLE_RATE {
        problems.push(Refusal {
            rule: "sample_rate_too_low",
            message: format!("is {} Hz; stores need 44,100 Hz or more", info.sample_rate),
        });
    }
    if info.bits_per_sample < MIN_BITS {
        problems.push(Refusal {
            rule: "bit_depth_too_low",
            message: format!("is {} bit; stores need 16 bit or more", info.bits_per_sample),
        });
    }
    if info.channels != 2 {
        problems.push(Refusal {
            rule: "not_stereo",
            message: format!("has {} channel(s); stores need stereo", info.channels),
        });
    }
    if info.frames == 0 {
        problems.push(Refusal { rule: "corrupt_file", message: "holds no audio".to_owned() });
    }
    if problems.is_empty() { Ok(info) } else { Err(problems) }
}

fn corrupt(e: impl std::fmt::Display) -> Refusal {
    Refusal { rule: "corrupt_file", message: format!("cannot be decoded: {e}") }
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Loudness and peaks, fed block by block.
struct Meter {
    ebur: Option<EbuR128>,
    clipped: u64,
    frames: u64,
    block: Vec<f32>,
}

impl Meter {
    fn new(channels: u16, rate: u32) -> Self {
        // A meter exists for what the measurement supports (1 to 64 channels, 1 Hz to 2.8 MHz).
        let ebur = EbuR128::new(u32::from(channels), rate, Mode::I | Mode::TRUE_PEAK).ok();
        Self { ebur, clipped: 0, frames: 0, block: Vec::with_capacity(64 * 1024) }
    }

    /// Adds interleaved samples scaled to [-1, 1]; `full` is the magnitude that counts as clipping.
    fn add(&mut self, channels: u16) {
        self.frames += (self.block.len() / usize::from(channels.max(1))) as u64;
        self.clipped += self.block.iter().filter(|s| s.abs() >= 0.999_97).count() as u64;
        if let Some(ebur) = &mut self.ebur {
            let _ = ebur.add_frames_f32(&self.block);
        }
        self.block.clear();
    }

    fn finish(self, format: &'static str, rate: u32, bits: u16, channels: u16) -> AudioInfo {
        let loudness = self.ebur.as_ref().and_then(|e| e.loudness_global().ok()).filter(|l| l.is_finite());
        let peak = self.ebur.as_ref().and_then(|e| {
            (0..u32::from(channels))
                .filter_map(|c| e.true_peak(c).ok())
                .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))))
        });
        let true_peak = peak.filter(|p| *p > 0.0).map(|p| 20.0 * p.log10());
        AudioInfo {
            format,
            sample_rate: rate,
            bits_per_sample: bits,
            channels,
            frames: self.frames,
            duration_ms: if rate == 0 { 0 } else { (self.frames * 1000 / u64::from(rate)) as i64 },
            loudness_lufs: loudness.map(|l| (l * 100.0).round() / 100.0),
            true_peak_dbtp: true_peak.map(|p| (p * 100.0).round() / 100.0),
            clipped_samples: self.clipped,
        }
    }
}

/// RIFF/WAVE: the `fmt ` chunk, then the `data` chunk read to its declared end (a shorter file is corrupt).
fn wav(mut r: BufReader<File>) -> Result<AudioInfo, Vec<Refusal>> {
    let fail =
        |why: &str| vec![Refusal { rule: "corrupt_file", message: format!("is not a readable WAV file: {why}") }];
    let mut header = [0u8; 12];
    r.read_exact(&mut header).map_err(|_| fail("no RIFF header"))?;
    let mut format: Option<(u16, u16, u32, u16, u16)> = None;
    loop {
        let mut chunk = [0u8; 8];
        if read_up_to(&mut r, &mut chunk).map_err(|e| vec![corrupt(e)])? < 8 {
            return Err(fail("no data chunk"));
        }
        let size = u32::from_le_bytes([chunk[4], chunk[5], chunk[6], chunk[7]]);
        match &chunk[..4] {
            b"fmt " => {
                if size < 16 {
                    return Err(fail("a fmt chunk shorter than 16 bytes"));
                }
                let mut fmt = vec![0u8; size as usize + (size as usize & 1)];
                r.read_exact(&mut fmt).map_err(|_| fail("the fmt chunk is cut off"))?;
                let tag = u16::from_le_bytes([fmt[0], fmt[1]]);
                let channels = u16::from_le_bytes([fmt[2], fmt[3]]);
                let rate = u32::from_le_bytes([fmt[4], fmt[5], fmt[6], fmt[7]]);
                let align = u16::from_le_bytes([fmt[12], fmt[13]]);
                let bits = u16::from_le_bytes([fmt[14], fmt[15]]);
                // WAVE_FORMAT_EXTENSIBLE names the real format in its sub-format GUID's first two bytes.
                let tag = if tag == 0xFFFE && fmt.len() >= 26 { u16::from_le_bytes([fmt[24], fmt[25]]) } else { tag };
                format = Some((tag, channels, rate, align, bits));
            }
            b"data" => {
                let Some((tag, channels, rate, align, bits)) = format else { return Err(fail("data before fmt")) };
                let float = match (tag, bits) {
                    (1, 8 | 16 | 24 | 32) => false,
                    (3, 32) => true,
                    _ => {
                        return Err(vec![Refusal {
                            rule: "unsupported_format",
                            message: format!("is a WAV of a kind stores do not take (format {tag}, {bits} bit)"),
                        }]);
                    }
                };
                let width = usize::from(bits / 8);
                if channels == 0 || usize::from(align) != width * usize::from(channels) {
                    return Err(fail("its block alignment does not match its channels and depth"));
                }
                let mut meter = Meter::new(channels, rate);
                let mut left = u64::from(size);
                let mut buf = vec![0u8; usize::from(align) * 16_384];
                while left > 0 {
                    let want = (left.min(buf.len() as u64)) as usize;
                    let got = read_up_to(&mut r, &mut buf[..want]).map_err(|e| vec![corrupt(e)])?;
                    if got < want {
                        return Err(fail("the file ends before its audio data does"));
                    }
                    left -= got as u64;
                    let whole = got - got % usize::from(align);
                    for s in buf[..whole].chunks_exact(width) {
                        meter.block.push(sample(s, bits, float));
                    }
                    meter.add(channels);
                }
                return Ok(meter.finish("wav", rate, bits, channels));
            }
            _ => {
                // Any other chunk (LIST, bext, iXML, ...) is skipped, with its pad byte.
                let skip = i64::from(size) + i64::from(size & 1);
                r.seek_relative(skip).map_err(|_| fail("a chunk is cut off"))?;
            }
        }
    }
}

/// One little-endian sample scaled to [-1, 1].
fn sample(s: &[u8], bits: u16, float: bool) -> f32 {
    match (bits, float) {
        (8, _) => (f32::from(s[0]) - 128.0) / 128.0,
        (16, _) => f32::from(i16::from_le_bytes([s[0], s[1]])) / 32_768.0,
        (24, _) => (i32::from_le_bytes([0, s[0], s[1], s[2]]) >> 8) as f32 / 8_388_608.0,
        (32, true) => f32::from_le_bytes([s[0], s[1], s[2], s[3]]),
        _ => i32::from_le_bytes([s[0], s[1], s[2], s[3]]) as f32 / 2_147_483_648.0,
    }
}

/// FLAC, decoded frame by frame (each frame's CRC checked by the decoder) to its end.
fn flac(r: BufReader<File>) -> Result<AudioInfo, Vec<Refusal>> {
    let mut reader = claxon::FlacReader::new(r).map_err(|e| vec![corrupt(e)])?;
    let info = reader.streaminfo();
    let (channels, rate, bits) = (info.channels as u16, info.sample_rate, info.bits_per_sample as u16);
    let scale = (1u64 << (bits.max(1) - 1)) as f32;
    let mut meter = Meter::new(channels, rate);
    let mut blocks = reader.blocks();
    let mut buffer = Vec::new();
    loop {
        match blocks.read_next_or_eof(buffer) {
            Ok(Some(block)) => {
                for i in 0..block.duration() {
                    for c in 0..block.channels() {
                        meter.block.push(block.sample(c, i) as f32 / scale);
                    }
                }
                meter.add(channels);
                buffer = block.into_buffer();
            }
            Ok(None) => break,
            Err(e) => return Err(vec![corrupt(e)]),
        }
    }
    if info.samples.is_some_and(|declared| declared != meter.frames) {
        return Err(vec![Refusal {
            rule: "corrupt_file",
            message: "ends before the audio its header announces".to_owned(),
        }]);
    }
    Ok(meter.finish("flac", rate, bits, channels))
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn wav_bytes(rate: u32, bits: u16, channels: u16, ms: u32, amplitude: f64) -> Vec<u8> {
        testkit::media::wav(rate, bits, channels, ms, amplitude)
    }

    fn check_bytes(bytes: &[u8]) -> Result<AudioInfo, Vec<Refusal>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        check(f.path())
    }

    fn rules(r: Result<AudioInfo, Vec<Refusal>>) -> Vec<&'static str> {
        r.unwrap_err().into_iter().map(|r| r.rule).collect()
    }

    #[test]
    fn a_stereo_cd_quality_wav_is_measured() {
        // BS.1770's reference: a 1 kHz sine at 0 dBFS in one channel reads -3.01 LUFS, so in both channels
        // 0 LUFS, and at half amplitude (-6.02 dBFS) -6.02 LUFS; its true peak is -6.02 dBTP.
        let info = check_bytes(&wav_bytes(44_100, 16, 2, 3000, 0.5)).unwrap();
        assert_eq!((info.format, info.sample_rate, info.bits_per_sample, info.channels), ("wav", 44_100, 16, 2));
        assert_eq!(info.frames, 132_300);
        assert_eq!(info.duration_ms, 3000);
        let lufs = info.loudness_lufs.unwrap();
        assert!((lufs + 6.02).abs() < 0.2, "{lufs}");
        let peak = info.true_peak_dbtp.unwrap();
        assert!((peak + 6.02).abs() < 0.2, "{peak}");
        assert_eq!(info.clipped_samples, 0);
    }

    #[test]
    fn flac_from_an_independent_encoder_decodes_to_the_same_measures() {
        let wav = wav_bytes(48_000, 24, 2, 2000, 0.25);
        let from_wav = check_bytes(&wav).unwrap();
        let from_flac = check_bytes(&testkit::media::flac(&wav)).unwrap();
        assert_eq!(from_flac.format, "flac");
        assert_eq!((from_flac.frames, from_flac.bits_per_sample, from_flac.sample_rate), (96_000, 24, 48_000));
        assert_eq!(from_flac.loudness_lufs, from_wav.loudness_lufs);
        assert_eq!(from_flac.true_peak_dbtp, from_wav.true_peak_dbtp);
        // A FLAC cut short fails its frame checks.
        let mut cut = testkit::media::flac(&wav);
        cut.truncate(cut.len() * 2 / 3);
        assert_eq!(rules(check_bytes(&cut)), ["corrupt_file"]);
    }

    #[test]
    fn clipping_is_counted() {
        let info = check_bytes(&wav_bytes(48_000, 24, 2, 500, 1.2_f64.min(1.0))).unwrap();
        assert!(info.clipped_samples > 0);
        assert!(info.true_peak_dbtp.unwrap() > -0.1);
    }

    #[test]
    fn mono_low_rate_low_depth_truncated_and_foreign_files_are_refused() {
        assert_eq!(rules(check_bytes(&wav_bytes(44_100, 16, 1, 200, 0.5))), ["not_stereo"]);
        assert_eq!(
            rules(check_bytes(&wav_bytes(22_050, 8, 2, 200, 0.5))),
            ["sample_rate_too_low", "bit_depth_too_low"]
        );
        let mut cut = wav_bytes(44_100, 16, 2, 500, 0.5);
        cut.truncate(cut.len() - 1000);
        assert_eq!(rules(check_bytes(&cut)), ["corrupt_file"]);
        assert_eq!(rules(check_bytes(b"ID3\x03\x00 this is an mp3, honest")), ["unsupported_format"]);
        assert_eq!(rules(check_bytes(b"")), ["unsupported_format"]);
        let mut garbage = b"fLaC".to_vec();
        garbage.extend_from_slice(&[0x80, 0, 0, 34]);
        garbage.extend_from_slice(&[0xAB; 40]);
        assert_eq!(rules(check_bytes(&garbage)), ["corrupt_file"]);
    }
}
